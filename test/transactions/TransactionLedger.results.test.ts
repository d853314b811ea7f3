import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex } from "viem";
import { Reason, Side, TxState, ZERO_HASH, nextResultSetHash, resultSetHash } from "../../lib/domain/ledger-types";
import {
  CHAIN_A,
  CHAIN_B,
  Outcome,
  OPERATION_READ,
  OPERATION_WRITE,
  eventsOf,
  executed,
  ledgerFixture,
  makePacket,
  openTx,
  readStep,
  record,
  result,
  sign,
  writeStep,
  type World,
} from "./fixtures";
import { expectRecord, expectNoRecord } from "../helpers/records";

describe("TransactionLedger: results", () => {
  let w: World;
  beforeEach(async () => {
    w = await loadFixture(ledgerFixture);
  });

  it("moves Open -> Executing -> Executed and chains the result hashes in recording order", async () => {
    const o = await openTx(w);
    const r0 = result(o, 0, { stateVersion: 41n });
    const first = await w.ledger.connect(w.srcProxy.wallet).recordResult(r0);
    const h0 = nextResultSetHash(ZERO_HASH, r0);
    await expect(first)
      .to.emit(w.ledger, "ResultRecorded")
      .withArgs(
        o.txId,
        0,
        TxState.Executing,
        w.srcProxy.address,
        CHAIN_A,
        r0.subchainTx,
        r0.blockNumber,
        r0.resultHash,
        OPERATION_READ,
        true,
        41n,
        h0,
      );
    // The normal path's moves are told by the result that made them: no TxTransitioned of their own.
    await expect(first).not.to.emit(w.ledger, "TxTransitioned");
    expect(await w.ledger.readVersionOf(o.txId, 0)).to.equal(41n);
    let status = await w.ledger.statusOf(o.txId);
    expect([status.state, status.stepsDone]).to.deep.equal([BigInt(TxState.Executing), 1n]);

    const r1 = result(o, 1, { stateVersion: 41n });
    const second = await w.ledger.connect(w.tgtProxy.wallet).recordResult(r1);
    const [told] = await eventsOf(w, second, "ResultRecorded");
    expect([told!.step, told!.to, told!.recorder]).to.deep.equal([1n, BigInt(TxState.Executed), w.tgtProxy.address]);
    await expect(second).not.to.emit(w.ledger, "TxTransitioned");
    status = await w.ledger.statusOf(o.txId);
    expect([status.state, status.stepsDone, status.stepCount]).to.deep.equal([BigInt(TxState.Executed), 2n, 2n]);
    const view = await w.ledger.transaction(o.txId);
    expect(view.resultSetHash).to.equal(resultSetHash([r0, r1]));
    expect(view.doneMask).to.equal(3n);
  });

  it("moves a one-step transaction straight through Executing to Executed in one call", async () => {
    const o = await openTx(w, { steps: [writeStep()] });
    const tx = await record(w, o, 0);
    expect((await eventsOf(w, tx, "ResultRecorded")).map((e) => e.to)).to.deep.equal([BigInt(TxState.Executed)]);
    expect(await eventsOf(w, tx, "TxTransitioned")).to.deep.equal([]);
    expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Executed);
  });

  it("a result that moves nothing says None, and a failed one leaves its moves to TxTransitioned", async () => {
    const o = await openTx(w, { steps: [readStep(Side.Source), readStep(Side.Source), writeStep()] });
    await record(w, o, 0);
    const still = await record(w, o, 1);
    expect((await eventsOf(w, still, "ResultRecorded")).map((e) => e.to)).to.deep.equal([BigInt(TxState.None)]);
    const failed = await record(w, o, 2, { success: false });
    expect((await eventsOf(w, failed, "ResultRecorded")).map((e) => e.to)).to.deep.equal([BigInt(TxState.None)]);
    expect((await eventsOf(w, failed, "TxTransitioned")).map((e) => e.to)).to.deep.equal([BigInt(TxState.Failed)]);
  });

  it("fails on a failed step, reports the failing party, and refuses later results", async () => {
    const o = await openTx(w);
    await record(w, o, 0);
    const tx = await record(w, o, 1, { success: false });
    await expect(tx)
      .to.emit(w.ledger, "TxTransitioned")
      .withArgs(o.txId, w.tgtProxy.address, TxState.Failed, TxState.Executing, Reason.StepFailed);
    await expectRecord(
      tx,
      w.credit,
      "OutcomeReported",
      w.target,
      Outcome.Failed,
      o.txId,
      -10,
      90,
      await w.ledger.getAddress(),
    );
    // A failed write changed nothing: no compensation.
    await expect(tx).not.to.emit(w.ledger, "CompensationRecorded");
    expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Failed);
    await expect(record(w, o, 1))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
      .withArgs(o.txId, TxState.Failed, TxState.Executing);
  });

  it("a failure after a completed write goes to compensation at once", async () => {
    const o = await openTx(w, { steps: [writeStep(), readStep(Side.Source)] });
    await record(w, o, 0);
    const tx = await record(w, o, 1, { success: false });
    const moves = (await eventsOf(w, tx, "TxTransitioned")).map((e) => Number(e.to));
    expect(moves).to.deep.equal([TxState.Failed, TxState.Compensating]);
    await expectRecord(
      tx,
      w.credit,
      "OutcomeReported",
      w.source,
      Outcome.Failed,
      o.txId,
      -10,
      90,
      await w.ledger.getAddress(),
    );
  });

  describe("stale reads", () => {
    it("rejects a dependent write that saw another version than its read: fails and compensates the write", async () => {
      const o = await openTx(w);
      await record(w, o, 0, { stateVersion: 5n });
      const tx = await record(w, o, 1, { stateVersion: 6n });
      await expect(tx).to.emit(w.ledger, "StaleReadRejected").withArgs(o.txId, 1, 0, 5n, 6n);
      const moves = (await eventsOf(w, tx, "TxTransitioned")).map((e) => [Number(e.to), Number(e.reason)]);
      expect(moves).to.deep.equal([
        [TxState.Failed, Reason.StaleRead],
        [TxState.Compensating, Reason.StaleRead],
      ]);
      // The write ran on its chain, so it is recorded as done and must be undone.
      const view = await w.ledger.transaction(o.txId);
      expect(view.doneMask).to.equal(3n);
      // A stale read is a race, not a party's fault: no credit report.
      await expectNoRecord(tx, w.credit, "OutcomeReported");
    });

    it("accepts the write when the versions agree", async () => {
      const o = await openTx(w);
      await record(w, o, 0, { stateVersion: 5n });
      await expect(record(w, o, 1, { stateVersion: 5n })).not.to.emit(w.ledger, "StaleReadRejected");
      expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Executed);
    });

    it("a stale write that its gateway refused (success = false) fails as stale, with nothing to undo", async () => {
      const o = await openTx(w);
      await record(w, o, 0, { stateVersion: 5n });
      const tx = await record(w, o, 1, { stateVersion: 4n, success: false });
      await expect(tx).to.emit(w.ledger, "StaleReadRejected").withArgs(o.txId, 1, 0, 5n, 4n);
      const status = await w.ledger.transaction(o.txId);
      expect([status.state, status.reason]).to.deep.equal([BigInt(TxState.Failed), BigInt(Reason.StaleRead)]);
    });

    it("keeps the versions of several depended-on reads, each checked by its own write", async () => {
      const txId = keccak256(toHex("two reads"));
      const writeA = await sign(w, await makePacket(w, { txId }));
      const writeB = await sign(w, await makePacket(w, { txId }));
      // Reads 0 and 1 on the source chain; write 2 depends on read 1, write 3 on read 0.
      const steps = [
        readStep(Side.Source),
        readStep(Side.Source),
        writeStep(Side.Target, 1),
        writeStep(Side.Target, 0),
      ];
      const o = await openTx(w, { packets: [writeA, writeB], steps });
      await record(w, o, 0, { stateVersion: 10n });
      await record(w, o, 1, { stateVersion: 20n });
      expect(await w.ledger.readVersionOf(o.txId, 0)).to.equal(10n);
      expect(await w.ledger.readVersionOf(o.txId, 1)).to.equal(20n);
      await expect(record(w, o, 2, { stateVersion: 20n })).not.to.emit(w.ledger, "StaleReadRejected");
      await expect(record(w, o, 3, { stateVersion: 20n }))
        .to.emit(w.ledger, "StaleReadRejected")
        .withArgs(o.txId, 3, 0, 10n, 20n);
      // And the other way round: the second read's version is the one a stale write is compared with.
      const txId2 = keccak256(toHex("two reads, again"));
      const o2 = await openTx(w, {
        packets: [
          await sign(w, await makePacket(w, { txId: txId2 })),
          await sign(w, await makePacket(w, { txId: txId2 })),
        ],
        steps,
      });
      await record(w, o2, 0, { stateVersion: 10n });
      await record(w, o2, 1, { stateVersion: 20n });
      await expect(record(w, o2, 2, { stateVersion: 10n }))
        .to.emit(w.ledger, "StaleReadRejected")
        .withArgs(o2.txId, 2, 1, 20n, 10n);
    });

    it("refuses the dependent write before its read is recorded", async () => {
      const o = await openTx(w);
      await expect(record(w, o, 1))
        .to.be.revertedWithCustomError(w.ledger, "LedgerDependencyPending")
        .withArgs(o.txId, 1, 0);
    });
  });

  describe("refusals", () => {
    it("refuses an unknown transaction, an unknown step, another recorder, sub-chain or operation", async () => {
      const o = await openTx(w);
      const unknown = keccak256(toHex("unknown"));
      await expect(w.ledger.connect(w.srcProxy.wallet).recordResult(result({ ...o, txId: unknown }, 0)))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnknownTx")
        .withArgs(unknown);
      await expect(w.ledger.connect(w.srcProxy.wallet).recordResult({ ...result(o, 0), step: 2 }))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnknownStep")
        .withArgs(o.txId, 2);
      // The source step by the target proxy, and by an outsider.
      await expect(w.ledger.connect(w.tgtProxy.wallet).recordResult(result(o, 0)))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedRecorder")
        .withArgs(o.txId, 0, w.tgtProxy.address, w.srcProxy.address);
      await expect(w.ledger.connect(w.outsider).recordResult(result(o, 0)))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedRecorder")
        .withArgs(o.txId, 0, await w.outsider.getAddress(), w.srcProxy.address);
      await expect(record(w, o, 0, { subchain: CHAIN_B }))
        .to.be.revertedWithCustomError(w.ledger, "LedgerSubchainMismatch")
        .withArgs(o.txId, 0, CHAIN_A, CHAIN_B);
      await expect(record(w, o, 0, { operation: OPERATION_WRITE }))
        .to.be.revertedWithCustomError(w.ledger, "LedgerOperationMismatch")
        .withArgs(o.txId, 0, OPERATION_READ, OPERATION_WRITE);
    });

    it("refuses a second result for a recorded step", async () => {
      const o = await openTx(w);
      await record(w, o, 0);
      await expect(record(w, o, 0, { resultHash: keccak256(toHex("other")) }))
        .to.be.revertedWithCustomError(w.ledger, "LedgerStepAlreadyRecorded")
        .withArgs(o.txId, 0);
    });

    it("refuses results once the transaction is executed or finished", async () => {
      const o = await executed(w);
      await expect(record(w, o, 1))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
        .withArgs(o.txId, TxState.Executed, TxState.Executing);
    });
  });

  describe("batching", () => {
    it("records several results in one call, as one by one would", async () => {
      const a = await openTx(w, { steps: [writeStep()] });
      const b = await openTx(w, { steps: [writeStep()] });
      const c = await openTx(w, { steps: [writeStep()] });
      const batch = [result(a, 0), result(b, 0), result(c, 0, { success: false })];
      const tx = await w.ledger.connect(w.tgtProxy.wallet).recordResults(batch);
      expect((await eventsOf(w, tx, "ResultRecorded")).length).to.equal(3);
      expect((await w.ledger.statusOf(a.txId)).state).to.equal(TxState.Executed);
      expect((await w.ledger.statusOf(b.txId)).state).to.equal(TxState.Executed);
      expect((await w.ledger.statusOf(c.txId)).state).to.equal(TxState.Failed);
      await expectRecord(
        tx,
        w.credit,
        "OutcomeReported",
        w.target,
        Outcome.Failed,
        c.txId,
        -10,
        90,
        await w.ledger.getAddress(),
      );
      expect((await w.ledger.transaction(a.txId)).resultSetHash).to.equal(resultSetHash([batch[0]!]));
    });

    it("is all or nothing, and holds 1 to MAX_BATCH results", async () => {
      const a = await openTx(w, { steps: [writeStep()] });
      const b = await openTx(w);
      await expect(w.ledger.connect(w.tgtProxy.wallet).recordResults([result(a, 0), result(b, 0)]))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedRecorder")
        .withArgs(b.txId, 0, w.tgtProxy.address, w.srcProxy.address);
      expect((await w.ledger.statusOf(a.txId)).state).to.equal(TxState.Open);
      await expect(w.ledger.connect(w.tgtProxy.wallet).recordResults([]))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidBatchSize")
        .withArgs(0, 64);
      const many = Array.from({ length: 65 }, () => result(a, 0));
      await expect(w.ledger.connect(w.tgtProxy.wallet).recordResults(many))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidBatchSize")
        .withArgs(65, 64);
    });
  });
});
