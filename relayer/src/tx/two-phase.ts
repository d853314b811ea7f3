/**
 * The relayer's part in a two-phase transaction (a plan whose writes have operation 2), on each side for its own
 * write: prepare it through the gateway (with the attestations, as an execution) and record the prepare as the
 * step's result; once the ledger is Committing, commit it and record the commit; when the transaction fails or
 * expires instead, roll it back (the compensation of a prepared write: nothing was applied). Each handler reads the
 * ledger and the gateway's record of the transaction first, so a run after a crash finds what an earlier one did.
 */
import { keccak256, zeroHash } from "viem";
import { ContractError, isRevert } from "../governance/contract";
import { TxState, wireResult, type LedgerResult } from "../../../lib/domain/ledger-types";
import type { OutboxItem } from "../store";
import { work, type CommitWork, type WorkInput } from "../work/items";
import { TwoPhaseStatus } from "../crosschain/two-phase";
import type { JournalEntry } from "./journal";
import type { TxContext } from "./context";
import { ACTIVE, beforeRun, gatewaySequence, packetOf, recordRetry, refusedResult, stopBeforeStep } from "./steps";
import { GiveUp, type WorkOutcome } from "./worker";

/**
 * The gateway's refusals of a prepare that are the step's own fault, recorded as a failed prepare (as are the business
 * contract's own refusals, which the gateway passes on). Its other refusals (attestations, roles) are not the
 * step's: final, the transaction is escalated, as for an execution.
 */
const PREPARE_REFUSALS = new Set([
  "SubchainGatewayKeyLocked",
  "SubchainGatewayTooManyKeys",
  "SubchainGatewayTwoPhaseUnsupported",
  "SubchainGatewayContractNotRegistered",
  "SubchainGatewayPayloadTooLarge",
  "SubchainGatewaySelectorBlocked",
  "SubchainGatewayCallDataTooShort",
]);
/** The ledger decided to commit (or a governor will): a prepared write is never rolled back by its relayer then. */
const DECIDED = new Set<number>([TxState.Committing, TxState.Executed, TxState.Confirmed, TxState.Manual]);

const bit = (mask: number, index: number): boolean => ((mask >> index) & 1) === 1;

/** Prepares this side's two-phase write and hands its result (prepared or refused) to the recording. */
export async function runPrepare(
  rt: TxContext,
  entry: JournalEntry,
  step: number,
  item: Pick<OutboxItem, "attempts" | "lastError">,
): Promise<WorkOutcome> {
  const { txId, role } = entry;
  const twoPhase = rt.subchain.gateway.twoPhase;
  const [[state], gateway] = await Promise.all([rt.gov.ledger.read("statusOf", [txId]), twoPhase.status(txId)]);
  if (!ACTIVE.has(state)) {
    stopBeforeStep(rt, entry, step, state);
    // Prepared before a crash and never recorded: the ledger will not take it now, so release the lock here.
    const prepared = gateway.status === TwoPhaseStatus.Prepared && !DECIDED.has(state);
    return prepared ? { next: [work.undo(role, txId, step)] } : {};
  }
  if (item.attempts > 0 && gateway.status === TwoPhaseStatus.None) await recordRetry(rt, txId, step, item);
  const planned = entry.plan.steps[step]!;
  let result: LedgerResult;
  try {
    const run = await twoPhase.ensurePrepared({
      txId,
      attestations: (request) => beforeRun(rt, entry, step, request),
      pipeId: entry.pipeId,
      sequence: gatewaySequence(entry, step),
      deadline: packetOf(entry, step).packet.deadline,
      contractName: planned.contractName,
      operation: 1,
      data: planned.data,
      fromBlock: entry.subFromBlock,
    });
    result = {
      txId,
      step,
      subchain: rt.subchain.subchainId,
      subchainTx: run.tx,
      blockNumber: run.blockNumber,
      resultHash: run.resultHash,
      operation: 1,
      success: true,
      stateVersion: 0n,
    };
  } catch (error) {
    // Past the deadline on the sub-chain's clock: nothing was prepared, and the reconciler expires the transaction.
    if (isRevert(error, "SubchainGatewayInvalidTxDeadline"))
      return (stopBeforeStep(rt, entry, step, TxState.Expired), {});
    const revert = error instanceof ContractError && error.code === "CONTRACT_REVERTED" ? error.revert : undefined;
    if (revert === undefined || isRevert(error, "SubchainGatewayInsufficientGas")) throw error;
    if (revert.name.startsWith("SubchainGateway") && !PREPARE_REFUSALS.has(revert.name))
      throw new GiveUp(
        "STEP_REFUSED",
        (error as Error).message,
        { txId, step, refusal: revert.name },
        { cause: error },
      );
    // The business contract (or the gateway's lock) refused to stage the write: a failed prepare, recorded.
    result = refusedResult(rt, entry, step, revert.data);
    rt.log.warn({ txId, step, refusal: revert.name }, "two-phase prepare refused");
  }
  rt.log.info({ txId, step, role, prepared: result.success, subchainTx: result.subchainTx }, "two-phase prepare");
  return { next: [work.record(role, txId, step, wireResult(result))] };
}

/** The commits the ledger calls for from this relayer: its prepared writes not committed yet, while Committing. */
export function commitItems(
  entry: JournalEntry,
  steps: number[],
  tx: { state: number; writeMask: number; doneMask: number; undoneMask: number },
): WorkInput[] {
  if (tx.state !== TxState.Committing) return [];
  return steps
    .filter((k) => bit(tx.writeMask, k) && bit(tx.doneMask, k) && !bit(tx.undoneMask, k))
    .map((step) => work.commit(entry.role, entry.txId, step));
}

/**
 * Commits this side's prepared write and records the commit. A gateway that no longer commits it (past the deadline
 * plus the grace) has it rolled back, here if nobody did yet, and the failed commit is recorded: the ledger sends the
 * transaction to Manual (`CommitFailed`), the one outcome a governor resolves.
 */
export async function commitStep(
  rt: Pick<TxContext, "gov" | "journal" | "log" | "subchain" | "writer">,
  { txId, step, role }: CommitWork,
): Promise<WorkOutcome> {
  const tx = await rt.gov.ledger.read("transaction", [txId]);
  if (tx.state !== TxState.Committing || bit(tx.undoneMask, step)) return {};
  const entry = rt.journal.require(txId, role);
  const twoPhase = rt.subchain.gateway.twoPhase;
  const run = await twoPhase.ensureCommitted(txId, entry.subFromBlock);
  if (run === undefined) await twoPhase.ensureRolledBack(txId, entry.subFromBlock);
  const result: LedgerResult = {
    txId,
    step,
    subchain: rt.subchain.subchainId,
    subchainTx: run?.tx ?? zeroHash,
    blockNumber: run?.blockNumber ?? 0n,
    resultHash: run?.resultHash ?? keccak256("0x"),
    operation: 1,
    success: run !== undefined,
    stateVersion: run?.stateVersion ?? 0n,
  };
  const outcome = await rt.writer.perform({
    op: "recordCommit",
    result: wireResult(result),
    fromBlock: entry.govFromBlock.toString(),
  });
  rt.log.info({ txId, step, committed: result.success, outcome: outcome.outcome }, "two-phase commit recorded");
  return {};
}

/** Rolls this side's prepared write back (nothing prepared here: nothing to do); returns the rollback, if any. */
export async function rollBack(rt: Pick<TxContext, "log" | "subchain">, entry: JournalEntry, step: number) {
  const run = await rt.subchain.gateway.twoPhase.ensureRolledBack(entry.txId, entry.subFromBlock);
  rt.log.warn({ txId: entry.txId, step, tx: run?.tx }, "two-phase write rolled back");
  return run;
}
