/**
 * After the steps: verification (as a verifier, endorse the result-set hash of what the sub-chains show), rollback
 * compensation of this relayer's completed writes when the ledger says Compensating, and the plain ledger writes
 * (escalate, expire, refusal reports).
 */
import { zeroHash } from "viem";
import { ContractError, isRevert } from "../governance/contract";
import { recordedResults } from "../governance/results";
import type { WriteOutcome } from "../governance/writer";
import type { CompensateWork, LedgerWork, VerifyWork } from "../work/items";
import { TxState, resultSetHash, type LedgerResult } from "../../../lib/domain/ledger-types";
import type { TxContext } from "./context";
import type { JournalEntry } from "./journal";
import type { CompensationRun } from "../crosschain/gateway";
import { twoPhaseLogOf } from "../crosschain/two-phase";
import { TWO_PHASE_WRITE } from "../../../lib/domain/plan";
import { rollBack } from "./two-phase";
import { gatewaySequence } from "./steps";
import { GiveUp, type WorkOutcome } from "./worker";

const bit = (mask: number, index: number): boolean => ((mask >> index) & 1) === 1;

/** Endorses an Executed transaction with the result-set hash recomputed from the ledger's events and the chain. */
export async function verify(
  rt: Pick<TxContext, "gov" | "govLogs" | "journal" | "log" | "me" | "subchain" | "view" | "writer">,
  { txId }: VerifyWork,
): Promise<WorkOutcome> {
  const me = rt.me.signer.address;
  const entry = rt.journal.find(txId)[0];
  // Read together (one round trip, the results' logs beside it); each is still checked before anything is endorsed.
  // Whether this relayer endorsed already is not read: the endorsement's gas check finds it (`LedgerAlreadyEndorsed`,
  // answered "already" by the writer), which only a retry after a crash meets. The weight is the view's, kept until
  // its `VerifierSet`.
  const results = recordedResults(rt.govLogs, rt.gov.ledger, txId, entry?.govFromBlock ?? 0n);
  results.catch(() => undefined); // awaited below, unless the checks end the item first
  const [verifier, tx] = await Promise.all([rt.view.verifier(me), rt.gov.ledger.read("transaction", [txId])]);
  if (verifier.weight === 0 || tx.state !== TxState.Executed) return {};
  let recorded = await results;
  // The logs may have been read a block before the state: read them again, after it, before any conclusion.
  if (resultSetHash(recorded) !== tx.resultSetHash)
    recorded = await recordedResults(rt.govLogs, rt.gov.ledger, txId, entry?.govFromBlock ?? 0n);
  const twoPhase = new Set(entry?.plan.steps.flatMap((s, k) => (s.operation === TWO_PHASE_WRITE ? [k] : [])) ?? []);
  const observing = Promise.all(recorded.map((result) => observe(rt, result, twoPhase.has(result.step)))).then(
    resultSetHash,
  );
  // The endorsement of the recorded hash is prepared (its gas checked) while the sub-chain is observed, and sent
  // only if the observation agrees: one round trip less in the usual case. The checks above read `hasEndorsed` and
  // the state; a race since is refused at the gas check (see the writer).
  const agrees = observing.then((hash) => hash === tx.resultSetHash);
  agrees.catch(() => undefined); // awaited through the write, and below
  let outcome: WriteOutcome;
  try {
    outcome = await rt.writer.perform(
      { op: "endorse", txId, resultSetHash: tx.resultSetHash, checked: true },
      { proceed: agrees },
    );
  } catch (error) {
    // Cancelled because the observation disagrees (the write's own faults, and the observation's, are thrown).
    if (
      await agrees.then(
        (yes) => yes,
        () => true,
      )
    )
      throw error;
    const hash = await observing;
    rt.log.error(
      { txId, recorded: tx.resultSetHash, observed: hash },
      "recorded results differ from the sub-chain: endorsing what was observed",
    );
    outcome = await rt.writer.perform({ op: "endorse", txId, resultSetHash: hash, checked: true });
  }
  rt.log.info({ txId, outcome: outcome.outcome, weight: verifier.weight }, "endorsed");
  return {};
}

/**
 * A result as this relayer sees it: on its own sub-chain, the receipt must exist (in the recorded block, or in
 * another one a reorg mined it again in), be deep enough, and carry the gateway's `InboundExecuted` with the recorded
 * outcome and hash (a two-phase write's prepare or commit: its `TwoPhasePrepared` or `TwoPhaseCommitted`); otherwise
 * the result is observed with a zero hash, so the endorsement conflicts. Results on other sub-chains are taken as
 * recorded.
 */
async function observe(rt: Pick<TxContext, "subchain">, r: LedgerResult, twoPhase: boolean): Promise<LedgerResult> {
  if (r.subchain.toLowerCase() !== rt.subchain.subchainId.toLowerCase()) return r;
  const mismatch = { ...r, resultHash: zeroHash };
  // The head alone (`status` would ask the chain id and sync state too: three calls for one number).
  const [receipt, head] = await Promise.all([rt.subchain.chain.getReceipt(r.subchainTx), rt.subchain.chain.head()]);
  // Found in another block than recorded: the same execution mined again by a reorg inside the depth (its log is
  // checked below), as the independent verifier takes it (`verifier/observe.ts`).
  if (receipt === null || receipt.status !== "success") return mismatch;
  // The head read with the receipt (or after it): the depth is never overstated. A pushed head may not have reached
  // the receipt's block yet, which the node has (so its head is at least that block).
  const top = head > receipt.blockNumber ? head : receipt.blockNumber;
  if (top - receipt.blockNumber < BigInt(rt.subchain.confirmations))
    throw new Error(`result of step ${r.step} is not ${rt.subchain.confirmations} blocks deep yet`);
  // A two-phase write's prepare and commit: the gateway's TwoPhasePrepared / TwoPhaseCommitted of the transaction.
  if (twoPhase) return twoPhaseLogOf(rt.subchain.gateway.contract, receipt.logs, r) === undefined ? mismatch : r;
  const executed = rt.subchain.gateway.contract
    .events(receipt.logs, "InboundExecuted")
    .find(
      (e) => e.args.resultHash === r.resultHash && e.args.success === r.success && e.args.operation === r.operation,
    );
  return executed === undefined ? mismatch : r;
}

/** Undoes one of this relayer's completed writes and records the attempt; retried until undone or Manual. */
export async function compensate(
  rt: Pick<TxContext, "gov" | "journal" | "log" | "subchain" | "writer">,
  { txId, step, role }: CompensateWork,
): Promise<WorkOutcome> {
  const tx = await rt.gov.ledger.read("transaction", [txId]);
  if (tx.state !== TxState.Compensating || bit(tx.undoneMask, step) || !bit(tx.doneMask, step)) return {};
  const entry = rt.journal.require(txId, role);
  const run = await undo(rt, entry, step);
  const outcome = await rt.writer.perform({
    op: "recordCompensation",
    compensation: {
      txId,
      step,
      subchain: rt.subchain.subchainId,
      subchainTx: run.tx,
      blockNumber: run.blockNumber.toString(),
      resultHash: run.resultHash,
      success: run.success,
    },
  });
  rt.log.info({ txId, step, success: run.success, outcome: outcome.outcome }, "compensation recorded");
  if (!run.success) throw new Error(`the business contract refused to undo step ${step} of ${txId}; will try again`);
  return {};
}

/** Undoes one write: a two-phase write is rolled back (nothing was applied), any other compensated. */
async function undo(
  rt: Pick<TxContext, "log" | "subchain">,
  entry: JournalEntry,
  step: number,
): Promise<CompensationRun> {
  if (entry.plan.steps[step]?.operation !== TWO_PHASE_WRITE)
    return rt.subchain.gateway.ensureCompensated(entry.pipeId, gatewaySequence(entry, step), entry.subFromBlock);
  const run = await rollBack(rt, entry, step);
  if (run === undefined)
    throw new GiveUp(
      "STEP_REFUSED",
      `step ${step} of ${entry.txId} is recorded as prepared, but its gateway has no prepare`,
      { txId: entry.txId, step },
    );
  return { tx: run.tx, blockNumber: run.blockNumber, success: true, resultHash: run.resultHash };
}

/** A plain ledger write: contract refusals other than "already done" are final. */
export async function ledgerWrite(
  rt: Pick<TxContext, "log" | "writer">,
  { ledger: op }: LedgerWork,
): Promise<WorkOutcome> {
  try {
    const outcome = await rt.writer.perform(op);
    rt.log.info({ op: op.op, outcome: outcome.outcome, txId: "txId" in op ? op.txId : undefined }, "ledger write");
  } catch (error) {
    if (isRevert(error, "LedgerDeadlineNotReached")) throw error;
    if (error instanceof ContractError && error.code === "CONTRACT_REVERTED")
      throw new GiveUp("LEDGER_REFUSED", error.message, { ...error.details }, { cause: error });
    throw error;
  }
  return {};
}
