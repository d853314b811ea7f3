/**
 * Two-phase transactions on the ledger: the write results are prepares, every step recorded moves the transaction
 * to Committing, each side's commit is recorded, and the verifiers confirm; a failed prepare or the deadline sends
 * the prepared writes to rollback (the compensation path), a failed commit to Manual.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex } from "viem";
import { NO_DEPENDENCY, Reason, Side, StepProblem, TxState, nextResultSetHash } from "../../lib/domain/ledger-types";
import type { LedgerResult } from "../../lib/domain/ledger-types";
import {
  CHAIN_A,
  CHAIN_B,
  Outcome,
  OPERATION_READ,
  OPERATION_WRITE,
  eventsOf,
  ledgerFixture,
  makePacket,
  movesOf,
  openTx,
  readStep,
  recorderOf,
  result,
  revertName,
  sign,
  writeStep,
  type Opened,
  type StepInput,
  type World,
} from "./fixtures";
import { expectRecord, recordsOf } from "../helpers/records";

const TWO_PHASE_WRITE = 2;
const TWO_PHASE_BIT = 1n << 39n;

const prepared = (side: Side): StepInput => ({
  side,
  subchain: side === Side.Source ? CHAIN_A : CHAIN_B,
  operation: TWO_PHASE_WRITE,
  dependsOn: NO_DEPENDENCY,
});
/** The transfer: debit on the source's ledger, credit on the target's. */
const transfer = (): StepInput[] => [prepared(Side.Source), prepared(Side.Target)];

describe("TransactionLedger: two-phase transactions", () => {
  let w: World;
  beforeEach(async () => {
    w = await loadFixture(ledgerFixture);
  });

  const stateOf = async (txId: string) => (await w.ledger.statusOf(txId)).state;
  /** A prepare (or commit) of a two-phase write: recorded as a write. */
  const twoPhaseResult = (o: Opened, step: number, tag: string, over: Partial<LedgerResult> = {}) =>
    result(o, step, { operation: OPERATION_WRITE, resultHash: keccak256(toHex(`${tag}:${step}`)), ...over });
  const rec = (o: Opened, step: number, tag: string, over: Partial<LedgerResult> = {}) =>
    w.ledger.connect(recorderOf(w, o, step).wallet).recordResult(twoPhaseResult(o, step, tag, over));
  /** The moves of a call that found the transaction `from` (the normal path's told by its ResultRecorded). */
  const transitions = (tx: Awaited<ReturnType<typeof rec>>, from: TxState) => movesOf(w, tx, from);

  async function committing(): Promise<Opened> {
    const o = await openTx(w, { steps: transfer() });
    await rec(o, 0, "prepared");
    const tx = await rec(o, 1, "prepared");
    expect(await transitions(tx, TxState.Executing)).to.deep.equal([[TxState.Executing, TxState.Committing]]);
    return o;
  }

  it("opens with the mode in its steps, prepares both sides, commits both, and confirms", async () => {
    const o = await openTx(w, { steps: transfer() });
    const [opened] = await eventsOf(w, o.tx, "TxOpened");
    expect(BigInt(opened!.steps) & TWO_PHASE_BIT).to.equal(TWO_PHASE_BIT);
    // The steps as opened: a receiver learns the mode from the ledger, not from its peer.
    expect(await w.ledger.stepOf(o.txId, 1)).to.deep.equal([BigInt(Side.Target), BigInt(TWO_PHASE_WRITE), 255n]);
    expect(await transitions(await rec(o, 0, "prepared"), TxState.Open)).to.deep.equal([
      [TxState.Open, TxState.Executing],
    ]);
    expect(await transitions(await rec(o, 1, "prepared"), TxState.Executing)).to.deep.equal([
      [TxState.Executing, TxState.Committing],
    ]);
    // Committing takes commits only: one per prepared write, by its own side.
    expect(
      await revertName(
        w,
        rec(o, 0, "commit", {}).then(() => rec(o, 0, "commit")),
      ),
    ).to.equal("LedgerStepAlreadyRecorded");
    expect(await stateOf(o.txId)).to.equal(TxState.Committing);
    expect(
      await revertName(w, w.ledger.connect(w.srcProxy.wallet).recordResult(twoPhaseResult(o, 1, "commit"))),
    ).to.equal("LedgerUnauthorizedRecorder");
    // Neither expiry nor a retry moves it: the decision is taken.
    await time.increaseTo(o.deadline + 1n);
    expect(await revertName(w, w.ledger.expire(o.txId))).to.equal("LedgerInvalidTransition");
    expect(await revertName(w, w.ledger.connect(w.tgtProxy.wallet).retryStep(o.txId, 1, "x"))).to.equal(
      "LedgerInvalidTransition",
    );
    // A commit after the deadline is still recorded: the gateway held the lock to deadline + grace at most.
    const last = await rec(o, 1, "commit");
    expect(await transitions(last, TxState.Committing)).to.deep.equal([[TxState.Committing, TxState.Executed]]);
    const view = await w.ledger.transaction(o.txId);
    expect(view.undoneMask).to.equal(0n);
    // The result set chains the prepares and the commits, in recording order.
    let hash = `0x${"00".repeat(32)}` as `0x${string}`;
    for (const [step, tag] of [
      [0, "prepared"],
      [1, "prepared"],
      [0, "commit"],
      [1, "commit"],
    ] as const)
      hash = nextResultSetHash(hash, twoPhaseResult(o, step, tag));
    expect(view.resultSetHash).to.equal(hash);
    await w.ledger.connect(w.auditors[0]!.wallet).endorse(o.txId, hash);
    await w.ledger.connect(w.auditors[1]!.wallet).endorse(o.txId, hash);
    expect(await stateOf(o.txId)).to.equal(TxState.Confirmed);
  });

  it("a failed second prepare rolls the first back through the compensation path", async () => {
    const o = await openTx(w, { steps: transfer() });
    await rec(o, 0, "prepared");
    const failed = await rec(o, 1, "refused", { success: false });
    expect(await transitions(failed, TxState.Executing)).to.deep.equal([
      [TxState.Executing, TxState.Failed],
      [TxState.Failed, TxState.Compensating],
    ]);
    expect(await recordsOf(failed, w.credit, "OutcomeReported")).to.not.be.empty;
    const rollback = {
      txId: o.txId,
      step: 0,
      subchain: CHAIN_A,
      subchainTx: keccak256(toHex("rollback")),
      blockNumber: 9n,
      resultHash: keccak256(toHex("rolled back")),
      success: true,
    };
    // Only the prepared write rolls back.
    expect(
      await revertName(
        w,
        w.ledger.connect(w.tgtProxy.wallet).recordCompensation({ ...rollback, step: 1, subchain: CHAIN_B }),
      ),
    ).to.equal("LedgerNotCompensable");
    await w.ledger.connect(w.srcProxy.wallet).recordCompensation(rollback);
    expect(await stateOf(o.txId)).to.equal(TxState.Compensated);
  });

  it("a deadline passing while prepared expires it and rolls the prepared side back", async () => {
    const o = await openTx(w, { steps: transfer() });
    await rec(o, 0, "prepared");
    await time.increaseTo(o.deadline + 1n);
    expect(await revertName(w, rec(o, 1, "prepared"))).to.equal("LedgerDeadlinePassed");
    const tx = await w.ledger.expire(o.txId);
    expect(await transitions(tx, TxState.Executing)).to.deep.equal([
      [TxState.Executing, TxState.Expired],
      [TxState.Expired, TxState.Compensating],
    ]);
    await w.ledger.connect(w.srcProxy.wallet).recordCompensation({
      txId: o.txId,
      step: 0,
      subchain: CHAIN_A,
      subchainTx: keccak256(toHex("rollback")),
      blockNumber: 9n,
      resultHash: keccak256(toHex("rolled back")),
      success: true,
    });
    expect(await stateOf(o.txId)).to.equal(TxState.Compensated);
  });

  it("a side that could not commit sends the transaction to Manual (CommitFailed) and is reported", async () => {
    const o = await committing();
    await rec(o, 0, "commit");
    const tx = await rec(o, 1, "commit refused", { success: false });
    expect(await transitions(tx, TxState.Committing)).to.deep.equal([[TxState.Committing, TxState.Manual]]);
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
    expect((await w.ledger.transaction(o.txId)).reason).to.equal(Reason.CommitFailed);
  });

  it("a proxy escalates a stuck commit to Manual", async () => {
    const o = await committing();
    await expect(w.ledger.connect(w.srcProxy.wallet).escalate(o.txId, "target relayer silent"))
      .to.emit(w.ledger, "TxTransitioned")
      .withArgs(o.txId, w.srcProxy.address, TxState.Manual, TxState.Committing, Reason.Escalated);
  });

  it("reads run as usual beside two-phase writes", async () => {
    const o = await openTx(w, { steps: [readStep(Side.Source), prepared(Side.Source), prepared(Side.Target)] });
    await w.ledger.connect(w.srcProxy.wallet).recordResult(result(o, 0));
    await rec(o, 1, "prepared");
    await rec(o, 2, "prepared");
    expect(await stateOf(o.txId)).to.equal(TxState.Committing);
    expect(await revertName(w, w.ledger.connect(w.srcProxy.wallet).recordResult(result(o, 0)))).to.equal(
      "LedgerStepAlreadyRecorded",
    );
    await rec(o, 2, "commit");
    await rec(o, 1, "commit");
    expect(await stateOf(o.txId)).to.equal(TxState.Executed);
  });

  describe("open refuses", () => {
    const openWith = async (steps: StepInput[], operation: 0 | 1 = OPERATION_WRITE) =>
      w.ledger
        .connect(w.srcProxy.wallet)
        .open([await sign(w, await makePacket(w, { operation }))], steps, (await time.latest()) + 600);
    const refusal = async (
      steps: StepInput[],
      index: number,
      problem: StepProblem,
      operation: 0 | 1 = OPERATION_WRITE,
    ) =>
      expect(openWith(steps, operation))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidStep")
        .withArgs(index, problem);

    it("two-phase and plain writes mixed, either order", async () => {
      await refusal([writeStep(Side.Source), prepared(Side.Target)], 1, StepProblem.TwoPhaseWrites);
      await refusal([prepared(Side.Source), writeStep(Side.Target)], 1, StepProblem.TwoPhaseWrites);
    });

    it("a second two-phase write on the same side (the gateway keys a prepare by the transaction)", async () => {
      await refusal(
        [prepared(Side.Source), prepared(Side.Source), prepared(Side.Target)],
        1,
        StepProblem.TwoPhaseWrites,
      );
    });

    it("an unknown operation, and a two-phase target step whose packet is a read", async () => {
      await refusal([{ ...prepared(Side.Target), operation: 3 }], 0, StepProblem.InvalidOperation);
      await refusal([prepared(Side.Target)], 0, StepProblem.OperationMismatch, OPERATION_READ);
    });

    it("eight steps (bit 39 marks the mode)", async () => {
      const steps = [
        ...Array.from({ length: 6 }, () => readStep(Side.Source)),
        prepared(Side.Source),
        prepared(Side.Target),
      ];
      await expect(openWith(steps)).to.be.revertedWithCustomError(w.ledger, "LedgerInvalidStepCount").withArgs(8, 7);
    });
  });
});
