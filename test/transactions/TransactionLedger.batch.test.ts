import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex, type Hex } from "viem";
import { Side, TxState, resultSetHash } from "../../lib/domain/ledger-types";
import { flipByte } from "../helpers/amdp";
import { govern } from "../helpers/governance";
import {
  Outcome,
  eventsOf,
  executed,
  ledgerFixture,
  makePacket,
  now,
  Refusal,
  readStep,
  readThenWrite,
  sign,
  writeStep,
  type SignedInput,
  type World,
} from "./fixtures";
import { expectRecord } from "../helpers/records";

/** openMany and endorseMany: all or nothing, each item refused with its own error. */
describe("TransactionLedger: batches across transactions", () => {
  let w: World;
  beforeEach(async () => {
    w = await loadFixture(ledgerFixture);
  });

  const request = async (signed?: SignedInput, steps = [writeStep()]) => ({
    packets: [signed ?? (await sign(w, await makePacket(w)))],
    steps,
    deadline: (await now()) + 1800n,
  });
  const openMany = (requests: Awaited<ReturnType<typeof request>>[]) =>
    w.ledger.connect(w.srcProxy.wallet).openMany(requests);
  const stateOf = async (txId: Hex) => (await w.ledger.statusOf(txId)).state;
  const txIdOf = (r: Awaited<ReturnType<typeof request>>) => r.packets[0]!.packet.txId as Hex;

  describe("openMany", () => {
    it("opens each transaction as open would, numbered in order", async () => {
      const requests = [await request(), await request(undefined, readThenWrite()), await request()];
      const before = await w.ledger.txCount();
      expect(await openMany(requests).then(() => w.ledger.txCount())).to.equal(before + 3n);
      for (const r of requests) expect(await stateOf(txIdOf(r))).to.equal(TxState.Open);
      const last = await openMany([await request()]);
      const [opened] = await eventsOf(w, last, "TxOpened");
      expect(opened!.number).to.equal(before + 4n);
    });

    it("is all or nothing: a transaction id twice in one batch is LedgerTxExists", async () => {
      const a = await request();
      const again = await request(await sign(w, await makePacket(w, { txId: txIdOf(a) })));
      const count = await w.ledger.txCount();
      await expect(openMany([a, again]))
        .to.be.revertedWithCustomError(w.ledger, "LedgerTxExists")
        .withArgs(txIdOf(a));
      expect(await stateOf(txIdOf(a))).to.equal(TxState.None);
      expect(await w.ledger.txCount()).to.equal(count);
    });

    it("a sequence reused inside one batch is LedgerSequenceReused", async () => {
      const a = await request();
      const seq = a.packets[0]!.packet.sequence;
      const same = await request(await sign(w, await makePacket(w, { sequence: seq })));
      await expect(openMany([a, same]))
        .to.be.revertedWithCustomError(w.ledger, "LedgerSequenceReused")
        .withArgs(w.pipeId, seq, seq);
      expect(await stateOf(txIdOf(a))).to.equal(TxState.None);
    });

    it("a transaction of another pipe, whose source signer is not the caller, refuses the batch", async () => {
      const other = keccak256(toHex("pipe:other"));
      await w.pipes.setRoute(other, { ...w.route, sourceServiceSigner: w.intruder.address });
      const mine = await request();
      const theirs = await request(await sign(w, await makePacket(w, { pipeId: other }), w.srcApp, w.intruder));
      await expect(openMany([mine, theirs]))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedOpener")
        .withArgs(other, w.srcProxy.address, w.intruder.address);
      expect(await stateOf(txIdOf(mine))).to.equal(TxState.None);
    });

    it("a flipped signature byte in one item refuses the batch; the untouched items then open", async () => {
      const good = await request();
      const bad = await request();
      const flipped = {
        ...bad,
        packets: [{ ...bad.packets[0]!, proxySignature: flipByte(bad.packets[0]!.proxySignature, 63) }],
      };
      await expect(openMany([good, flipped])).to.be.revertedWithCustomError(w.ledger, "AmdpInvalidProxySignature");
      expect(await stateOf(txIdOf(good))).to.equal(TxState.None);
      await openMany([good, bad]);
      expect(await stateOf(txIdOf(bad))).to.equal(TxState.Open);
    });

    it("each item gets the pipe's answer to its own question: a refused operation after an allowed one on the same pipe", async () => {
      const read = await request(await sign(w, await makePacket(w, { operation: 0 })), [readStep(Side.Target)]);
      const write = await request();
      await w.pipes.setRoute(w.pipeId, { ...w.route, operations: 1 }); // reads only
      await expect(openMany([read, write]))
        .to.be.revertedWithCustomError(w.pipes, "PipeOperationRefused")
        .withArgs(w.pipeId, w.srcApp.address, Refusal.OperationNotAllowed);
      expect(await stateOf(txIdOf(read))).to.equal(TxState.None);
      await openMany([read]);
      expect(await stateOf(txIdOf(read))).to.equal(TxState.Open);
    });

    it("a rotated-out source signer is refused for every item", async () => {
      const r = await request();
      await w.pipes.setRoute(w.pipeId, { ...w.route, sourceServiceSigner: w.intruder.address });
      await expect(openMany([r]))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedOpener")
        .withArgs(w.pipeId, w.srcProxy.address, w.intruder.address);
    });

    it("holds 1 to MAX_BATCH transactions", async () => {
      await expect(openMany([])).to.be.revertedWithCustomError(w.ledger, "LedgerInvalidBatchSize").withArgs(0, 64);
      const r = await request();
      await expect(openMany(Array.from({ length: 65 }, () => r)))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidBatchSize")
        .withArgs(65, 64);
    });
  });

  describe("endorseMany", () => {
    const endorseMany = (i: number, items: { txId: Hex; results: Parameters<typeof resultSetHash>[0] }[]) =>
      w.ledger
        .connect(w.auditors[i]!.wallet)
        .endorseMany(items.map((o) => ({ txId: o.txId, resultSetHash: resultSetHash(o.results) })));

    it("endorses each transaction as endorse would, confirming and crediting each", async () => {
      const a = await executed(w);
      const b = await executed(w);
      await endorseMany(0, [a, b]);
      expect(await stateOf(a.txId)).to.equal(TxState.Executed); // 2 of 4: exactly half
      const tx = await endorseMany(1, [a, b]);
      expect(await stateOf(a.txId)).to.equal(TxState.Confirmed);
      expect(await stateOf(b.txId)).to.equal(TxState.Confirmed);
      const ledger = await w.ledger.getAddress();
      for (const o of [a, b]) {
        await expectRecord(tx, w.credit, "OutcomeReported", w.source, Outcome.Completed, o.txId, 1, anyScore, ledger);
        await expectRecord(tx, w.credit, "OutcomeReported", w.target, Outcome.Completed, o.txId, 1, anyScore, ledger);
      }
      expect((await eventsOf(w, tx, "Endorsed")).length).to.equal(2);
    });

    it("sends the credit reports in one call; a refused one is re-sent alone, so only it is lost", async () => {
      const a = await executed(w);
      const b = await executed(w);
      await endorseMany(0, [a, b]);
      await w.credit.setRefused(w.target);
      const tx = await endorseMany(1, [a, b]);
      expect([await stateOf(a.txId), await stateOf(b.txId)]).to.deep.equal([TxState.Confirmed, TxState.Confirmed]);
      const failed = await eventsOf(w, tx, "CreditReportFailed");
      expect(failed.map((e) => [e.txId, Number(e.institution)])).to.deep.equal([
        [a.txId, w.target],
        [b.txId, w.target],
      ]);
      expect(await w.credit.countOf(w.source, Outcome.Completed)).to.equal(2n);
      expect(await w.credit.countOf(w.target, Outcome.Completed)).to.equal(0n);
    });

    it("is all or nothing: a transaction twice in one batch is LedgerAlreadyEndorsed", async () => {
      const a = await executed(w);
      await expect(endorseMany(2, [a, a]))
        .to.be.revertedWithCustomError(w.ledger, "LedgerAlreadyEndorsed")
        .withArgs(a.txId, w.auditors[2]!.address);
      expect(await w.ledger.hasEndorsed(a.txId, w.auditors[2]!.address)).to.equal(false);
    });

    it("a transaction that is not Executed refuses the whole batch", async () => {
      const a = await executed(w);
      const open = await request();
      await openMany([open]);
      await expect(endorseMany(0, [a, { txId: txIdOf(open), results: [] }]))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
        .withArgs(txIdOf(open), TxState.Open, TxState.Confirmed);
      expect(await w.ledger.hasEndorsed(a.txId, w.auditors[0]!.address)).to.equal(false);
    });

    it("a suspended verifier is refused before anything is endorsed; an unknown one too", async () => {
      const a = await executed(w);
      await govern(w.c, w.c.membership, "suspendAccount", [w.auditors[0]!.address]);
      await expect(endorseMany(0, [a])).to.be.revertedWithCustomError(w.c.membership, "AccountNotActive");
      await expect(
        w.ledger.connect(w.intruder.wallet).endorseMany([{ txId: a.txId, resultSetHash: resultSetHash(a.results) }]),
      )
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnknownVerifier")
        .withArgs(w.intruder.address);
    });

    it("holds 1 to MAX_BATCH endorsements", async () => {
      await expect(endorseMany(0, []))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidBatchSize")
        .withArgs(0, 64);
      const a = await executed(w);
      await expect(
        endorseMany(
          0,
          Array.from({ length: 65 }, () => a),
        ),
      )
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidBatchSize")
        .withArgs(65, 64);
    });
  });
});

const anyScore = (value: bigint) => value > 0n;
