import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex } from "viem";
import { Reason, Side, TxState, resultSetHash } from "../../lib/domain/ledger-types";
import { Role, govern } from "../helpers/governance";
import {
  CHAIN_A,
  CHAIN_B,
  Outcome,
  eventsOf,
  executed,
  OPERATION_READ,
  ledgerFixture,
  makePacket,
  openTx,
  readStep,
  record,
  sign,
  writeStep,
  type Opened,
  type World,
} from "./fixtures";
import { expectRecord } from "../helpers/records";

describe("TransactionLedger: compensation", () => {
  let w: World;
  beforeEach(async () => {
    w = await loadFixture(ledgerFixture);
  });

  const stateOf = async (txId: string) => (await w.ledger.statusOf(txId)).state;

  /** A transaction with completed writes on both sides whose last step failed: Compensating. */
  async function compensating(): Promise<Opened> {
    const o = await openTx(w, { steps: [writeStep(Side.Target), writeStep(Side.Source), readStep(Side.Source)] });
    await record(w, o, 0);
    await record(w, o, 1);
    await record(w, o, 2, { success: false });
    expect(await stateOf(o.txId)).to.equal(TxState.Compensating);
    return o;
  }

  const undo = (o: Opened, step: number, success = true, by = step === 0 ? w.tgtProxy : w.srcProxy) =>
    w.ledger.connect(by.wallet).recordCompensation({
      txId: o.txId,
      step,
      subchain: step === 0 ? CHAIN_B : CHAIN_A,
      subchainTx: keccak256(toHex(`undo:${o.txId}:${step}`)),
      blockNumber: 200n,
      resultHash: keccak256(toHex("undone")),
      success,
    });

  describe("automatic retry", () => {
    it("records each retry and bounds them per step by the governed maximum", async () => {
      const o = await openTx(w);
      const max = Number(await w.ledger.maxRetries());
      expect(max).to.equal(3);
      for (let attempt = 1; attempt <= max; attempt++) {
        await expect(w.ledger.connect(w.srcProxy.wallet).retryStep(o.txId, 0, "rpc timeout"))
          .to.emit(w.ledger, "StepRetried")
          .withArgs(o.txId, 0, w.srcProxy.address, attempt, "rpc timeout");
      }
      await expect(w.ledger.connect(w.srcProxy.wallet).retryStep(o.txId, 0, "rpc timeout"))
        .to.be.revertedWithCustomError(w.ledger, "LedgerRetryLimitReached")
        .withArgs(o.txId, 0, max);
      expect(await w.ledger.attemptsOf(o.txId, 0)).to.deep.equal([3n, 0n]);
      // The bound is per step; the result after the retries is recorded as usual.
      await expect(record(w, o, 0)).to.emit(w.ledger, "ResultRecorded");
      await expect(w.ledger.connect(w.tgtProxy.wallet).retryStep(o.txId, 1, "heartbeat jitter")).to.emit(
        w.ledger,
        "StepRetried",
      );
    });

    it("follows the governed retry bound", async () => {
      await expect(govern(w.c, w.ledger, "setMaxRetries", [1]))
        .to.emit(w.ledger, "MaxRetriesSet")
        .withArgs(1);
      const o = await openTx(w);
      await w.ledger.connect(w.srcProxy.wallet).retryStep(o.txId, 0, "again");
      await expect(w.ledger.connect(w.srcProxy.wallet).retryStep(o.txId, 0, "again"))
        .to.be.revertedWithCustomError(w.ledger, "LedgerRetryLimitReached")
        .withArgs(o.txId, 0, 1);
      await expect(w.ledger.connect(w.c.governors[0]!).setMaxRetries(5)).to.be.revertedWithCustomError(
        w.ledger,
        "GovernanceOnly",
      );
    });

    it("refuses retries of a recorded step, by another proxy, of unknown steps, or after the transaction ran", async () => {
      const o = await openTx(w);
      await record(w, o, 0);
      await expect(w.ledger.connect(w.srcProxy.wallet).retryStep(o.txId, 0, "x"))
        .to.be.revertedWithCustomError(w.ledger, "LedgerStepAlreadyRecorded")
        .withArgs(o.txId, 0);
      await expect(w.ledger.connect(w.srcProxy.wallet).retryStep(o.txId, 1, "x"))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedRecorder")
        .withArgs(o.txId, 1, w.srcProxy.address, w.tgtProxy.address);
      await expect(w.ledger.connect(w.srcProxy.wallet).retryStep(o.txId, 7, "x"))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnknownStep")
        .withArgs(o.txId, 7);
      await record(w, o, 1, { success: false });
      await expect(w.ledger.connect(w.tgtProxy.wallet).retryStep(o.txId, 1, "x"))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
        .withArgs(o.txId, TxState.Failed, TxState.Executing);
    });
  });

  describe("rollback", () => {
    it("records each compensation of a completed write and ends Compensated", async () => {
      const o = await compensating();
      const first = await undo(o, 0);
      await expect(first)
        .to.emit(w.ledger, "CompensationRecorded")
        .withArgs(
          o.txId,
          0,
          w.tgtProxy.address,
          CHAIN_B,
          keccak256(toHex(`undo:${o.txId}:0`)),
          200n,
          keccak256(toHex("undone")),
          true,
          1,
        );
      expect(await stateOf(o.txId)).to.equal(TxState.Compensating);
      const last = await undo(o, 1);
      await expect(last)
        .to.emit(w.ledger, "TxTransitioned")
        .withArgs(o.txId, w.srcProxy.address, TxState.Compensated, TxState.Compensating, Reason.StepFailed);
      const view = await w.ledger.transaction(o.txId);
      expect([view.state, view.undoneMask]).to.deep.equal([BigInt(TxState.Compensated), 3n]);
      // Compensated is final.
      await expect(undo(o, 1))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
        .withArgs(o.txId, TxState.Compensated, TxState.Compensated);
    });

    it("refuses to compensate reads, undone or unrecorded steps, by another proxy or sub-chain", async () => {
      const o = await compensating();
      await expect(undo(o, 2, true, w.srcProxy))
        .to.be.revertedWithCustomError(w.ledger, "LedgerNotCompensable")
        .withArgs(o.txId, 2);
      await undo(o, 0);
      await expect(undo(o, 0)).to.be.revertedWithCustomError(w.ledger, "LedgerNotCompensable").withArgs(o.txId, 0);
      await expect(undo(o, 1, true, w.tgtProxy))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedRecorder")
        .withArgs(o.txId, 1, w.tgtProxy.address, w.srcProxy.address);
      const wrongChain = w.ledger.connect(w.srcProxy.wallet).recordCompensation({
        txId: o.txId,
        step: 1,
        subchain: CHAIN_B,
        subchainTx: keccak256(toHex("t")),
        blockNumber: 1n,
        resultHash: keccak256(toHex("r")),
        success: true,
      });
      await expect(wrongChain)
        .to.be.revertedWithCustomError(w.ledger, "LedgerSubchainMismatch")
        .withArgs(o.txId, 1, CHAIN_A, CHAIN_B);
      // Not in compensation: refused.
      const open = await openTx(w);
      await expect(undo(open, 1, true, w.srcProxy))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
        .withArgs(open.txId, TxState.Open, TxState.Compensated);
    });

    it("records failed compensations and escalates to Manual when the bound is spent", async () => {
      await govern(w.c, w.ledger, "setMaxRetries", [1]);
      const o = await compensating();
      await expect(undo(o, 0, false)).to.emit(w.ledger, "CompensationRecorded");
      expect(await stateOf(o.txId)).to.equal(TxState.Compensating);
      const tx = await undo(o, 0, false);
      await expect(tx)
        .to.emit(w.ledger, "TxTransitioned")
        .withArgs(o.txId, w.tgtProxy.address, TxState.Manual, TxState.Compensating, Reason.CompensationFailed);
      expect(await w.ledger.attemptsOf(o.txId, 0)).to.deep.equal([0n, 2n]);
    });

    it("a confirmed transaction never compensates", async () => {
      const o = await executed(w);
      await w.ledger.connect(w.auditors[0]!.wallet).endorse(o.txId, resultSetHash(o.results));
      await w.ledger.connect(w.auditors[1]!.wallet).endorse(o.txId, resultSetHash(o.results));
      await expect(undo(o, 1, true, w.tgtProxy))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
        .withArgs(o.txId, TxState.Confirmed, TxState.Compensated);
      await expect(w.ledger.connect(w.tgtProxy.wallet).escalate(o.txId, "too late"))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
        .withArgs(o.txId, TxState.Confirmed, TxState.Manual);
    });
  });

  describe("manual intervention", () => {
    it("a proxy escalates, only an active governor resolves, with the reason on-chain", async () => {
      const o = await compensating();
      await expect(w.ledger.connect(w.srcProxy.wallet).escalate(o.txId, "target chain unreachable"))
        .to.emit(w.ledger, "TxEscalated")
        .withArgs(o.txId, w.srcProxy.address, "target chain unreachable");
      const view = await w.ledger.transaction(o.txId);
      expect([view.state, view.reason]).to.deep.equal([BigInt(TxState.Manual), BigInt(Reason.Escalated)]);
      await expect(w.ledger.connect(w.srcProxy.wallet).resolve(o.txId, "me"))
        .to.be.revertedWithCustomError(w.c.membership, "AccountRoleMismatch")
        .withArgs(w.srcProxy.address, Role.Governor, Role.Business);
      await expect(w.ledger.connect(w.auditors[0]!.wallet).resolve(o.txId, "me"))
        .to.be.revertedWithCustomError(w.c.membership, "AccountRoleMismatch")
        .withArgs(w.auditors[0]!.address, Role.Governor, Role.Auditor);
      const governor = w.c.governors[1]!;
      const tx = await w.ledger.connect(governor).resolve(o.txId, "undone by hand on chain B, tx 0xabc");
      await expect(tx)
        .to.emit(w.ledger, "TxResolved")
        .withArgs(o.txId, await governor.getAddress(), "undone by hand on chain B, tx 0xabc");
      await expect(tx)
        .to.emit(w.ledger, "TxTransitioned")
        .withArgs(o.txId, await governor.getAddress(), TxState.Resolved, TxState.Manual, Reason.Escalated);
      await expect(w.ledger.connect(governor).resolve(o.txId, "again"))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
        .withArgs(o.txId, TxState.Resolved, TxState.Resolved);
    });

    it("a suspended governor cannot resolve; a governor may escalate; an outsider may not", async () => {
      const o = await openTx(w);
      await expect(w.ledger.connect(w.outsider).escalate(o.txId, "x"))
        .to.be.revertedWithCustomError(w.c.membership, "AccountNotActive")
        .withArgs(await w.outsider.getAddress(), 0);
      const governor = w.c.governors[0]!;
      await expect(w.ledger.connect(governor).escalate(o.txId, "stuck")).to.emit(w.ledger, "TxEscalated");
      await govern(w.c, w.c.membership, "suspendAccount", [await governor.getAddress()], w.c.governors.slice(1));
      await expect(w.ledger.connect(governor).resolve(o.txId, "x"))
        .to.be.revertedWithCustomError(w.c.membership, "AccountNotActive")
        .withArgs(await governor.getAddress(), 3);
    });

    it("resolves only from Manual, and escalation is refused from final states", async () => {
      const o = await openTx(w);
      await expect(w.ledger.connect(w.c.governors[0]!).resolve(o.txId, "x"))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
        .withArgs(o.txId, TxState.Open, TxState.Resolved);
      const unknown = keccak256(toHex("unknown"));
      await expect(w.ledger.connect(w.c.governors[0]!).resolve(unknown, "x"))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnknownTx")
        .withArgs(unknown);
      await expect(w.ledger.connect(w.srcProxy.wallet).escalate(unknown, "x"))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnknownTx")
        .withArgs(unknown);
      await w.ledger.connect(w.tgtProxy.wallet).escalate(o.txId, "x");
      await expect(w.ledger.connect(w.tgtProxy.wallet).escalate(o.txId, "x"))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
        .withArgs(o.txId, TxState.Manual, TxState.Manual);
    });
  });

  describe("expiry", () => {
    it("is refused before the deadline, then anyone expires: the target, pending, that acknowledged timed out", async () => {
      const o = await openTx(w);
      await record(w, o, 0);
      // The target acknowledges the transaction with a retry of its step: the packet reached it.
      await w.ledger.connect(w.tgtProxy.wallet).retryStep(o.txId, 1, "node busy");
      await expect(w.ledger.connect(w.outsider).expire(o.txId))
        .to.be.revertedWithCustomError(w.ledger, "LedgerDeadlineNotReached")
        .withArgs(o.txId, o.deadline, (await time.latest()) + 1);
      await time.increaseTo(o.deadline + 1n);
      const tx = await w.ledger.connect(w.outsider).expire(o.txId);
      await expect(tx)
        .to.emit(w.ledger, "TxTransitioned")
        .withArgs(o.txId, await w.outsider.getAddress(), TxState.Expired, TxState.Executing, Reason.Expired);
      // Step 1 (the target's write) was pending: the target timed out. Nothing was written: no compensation.
      await expectRecord(
        tx,
        w.credit,
        "OutcomeReported",
        w.target,
        Outcome.TimedOut,
        o.txId,
        -10,
        90,
        await w.ledger.getAddress(),
      );
      expect((await eventsOf(w, tx, "TxTransitioned")).length).to.equal(1);
      await expect(record(w, o, 1))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
        .withArgs(o.txId, TxState.Expired, TxState.Executing);
      await expect(w.ledger.expire(o.txId))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
        .withArgs(o.txId, TxState.Expired, TxState.Expired);
    });

    it("charges the source when nothing shows its packets reached the target, the target once it acted", async () => {
      // The source read is recorded; the target never recorded nor retried its write: the source timed out.
      const a = await openTx(w);
      await record(w, a, 0);
      // A target-only transaction the target never touched: the source's delivery is what is missing.
      const b = await openTx(w, { steps: [writeStep(Side.Target)] });
      // A target-first transaction the target recorded, its source step pending: the source timed out.
      const c = await openTx(w, {
        steps: [readStep(Side.Target), readStep(Side.Source)],
        packet: { operation: OPERATION_READ },
      });
      await record(w, c, 0);
      // Two target steps, the first recorded: the target received the transaction and timed out on the second.
      const first = await makePacket(w, { operation: OPERATION_READ });
      const packets = [await sign(w, first), await sign(w, await makePacket(w, { txId: first.txId }))];
      const d = await openTx(w, { steps: [readStep(Side.Target), writeStep(Side.Target)], packets });
      await record(w, d, 0);
      await time.increaseTo(d.deadline + 1n);
      const ledger = await w.ledger.getAddress();
      await expectRecord(
        w.ledger.expire(a.txId),
        w.credit,
        "OutcomeReported",
        w.source,
        Outcome.TimedOut,
        a.txId,
        -10,
        90,
        ledger,
      );
      await expectRecord(
        w.ledger.expire(b.txId),
        w.credit,
        "OutcomeReported",
        w.source,
        Outcome.TimedOut,
        b.txId,
        -10,
        80,
        ledger,
      );
      await expectRecord(
        w.ledger.expire(c.txId),
        w.credit,
        "OutcomeReported",
        w.source,
        Outcome.TimedOut,
        c.txId,
        -10,
        70,
        ledger,
      );
      await expectRecord(
        w.ledger.expire(d.txId),
        w.credit,
        "OutcomeReported",
        w.target,
        Outcome.TimedOut,
        d.txId,
        -10,
        90,
        ledger,
      );
    });

    it("starts compensation of the completed writes", async () => {
      const o = await openTx(w, { steps: [writeStep(Side.Target), readStep(Side.Source)] });
      await record(w, o, 0);
      await time.increaseTo(o.deadline + 1n);
      const tx = await w.ledger.expire(o.txId);
      const moves = (await eventsOf(w, tx, "TxTransitioned")).map((e) => Number(e.to));
      expect(moves).to.deep.equal([TxState.Expired, TxState.Compensating]);
      await expectRecord(
        tx,
        w.credit,
        "OutcomeReported",
        w.source,
        Outcome.TimedOut,
        o.txId,
        -10,
        90,
        await w.ledger.getAddress(),
      );
      await expect(undo(o, 0)).to.emit(w.ledger, "TxTransitioned");
      expect(await stateOf(o.txId)).to.equal(TxState.Compensated);
    });

    it("never expires an executed transaction, an unknown one, or a final one", async () => {
      const o = await executed(w);
      await time.increaseTo(o.deadline + 1n);
      await expect(w.ledger.expire(o.txId))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
        .withArgs(o.txId, TxState.Executed, TxState.Expired);
      const unknown = keccak256(toHex("unknown"));
      await expect(w.ledger.expire(unknown))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnknownTx")
        .withArgs(unknown);
    });
  });
});
