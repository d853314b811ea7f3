/**
 * The reconciliation report: every transaction whose final state disagrees between the ledger and the
 * sub-chains, plus the ledger's own list of transactions unresolved past their deadline or inconsistent
 * (`lib/domain/reconcile.ts`, fed with the index's transactions instead of a fresh event scan).
 *
 * Across chains, for each transaction with recorded results: every receipt check (`receipts.ts`), and for every
 * completed write the gateway's record of the packet at the sub-chain's latest block: a write the ledger counts
 * as done must have run and succeeded there, a write the ledger counts as undone must be compensated there, and
 * a write of a confirmed transaction must not have been compensated.
 */
import { zeroAddress, type Hex } from "viem";
import { ENUM_NAMES } from "../../lib/domain/enums.generated";
import { TxState } from "../../lib/domain/ledger-types";
import { reconcile, type ReconcileEntry } from "../../lib/domain/reconcile";
import type { TransactionLedger } from "../../typechain-types";
import { parseState, stateName, reasonName } from "./names";
import { checkReceipts, subchainInfo, type ReceiptCheck, type SubchainReader } from "./receipts";
import type { IndexStore } from "./store";
import { traceTransaction, type TxTrace } from "./trace";
import type { Checkpoint } from "./types";

export interface CrossChainProblem {
  step: number | null;
  code: string;
  message: string;
}

export interface CrossChainEntry {
  txId: Hex;
  number: number;
  state: string;
  reason: string;
  problems: CrossChainProblem[];
}

export interface LedgerIssue {
  number: string;
  txId: string;
  pipeId: string;
  issue: string;
  state: string;
  reason: string;
  deadline: string;
  stepsDone: number;
  stepCount: number;
  writesNotUndone: number[];
  weightAgainst: string;
  /** Seconds past the deadline at the ledger's latest block (0 when not past it). */
  secondsLate: string;
}

export interface ReconciliationReport {
  /** The ledger's latest block time, unix seconds. */
  generatedAt: number;
  checkpoint: Checkpoint | null;
  /** Transactions in the index. */
  scanned: number;
  /** Transactions the ledger counts that the index does not hold (opened after the checkpoint, or a gap). */
  missing: number;
  ledgerIssues: LedgerIssue[];
  crossChain: CrossChainEntry[];
  /** Checks that could not be made (no RPC for a sub-chain, RPC failure, unknown sequence). */
  unchecked: Array<{ txId: Hex; step: number | null; message: string }>;
}

export interface ReconcileAcrossOptions {
  store: IndexStore;
  ledger: TransactionLedger;
  reader: SubchainReader;
  /** Only these transactions (default: every one in the index). */
  txIds?: Hex[];
  /** `unresolvedAmong` page size (default 200). */
  pageSize?: number;
}

const ISSUES: readonly string[] = ENUM_NAMES["ITransactionLedgerTypes.Issue"];

function ledgerIssue(e: ReconcileEntry, now: bigint): LedgerIssue {
  return {
    number: e.number.toString(),
    txId: e.txId,
    pipeId: e.pipeId,
    issue: ISSUES[e.issue] ?? String(e.issue),
    state: stateName(e.state),
    reason: reasonName(e.reason),
    deadline: e.deadline.toString(),
    stepsDone: e.stepsDone,
    stepCount: e.stepCount,
    writesNotUndone: e.writesNotUndone,
    weightAgainst: e.weightAgainst.toString(),
    secondsLate: (now > e.deadline ? now - e.deadline : 0n).toString(),
  };
}

export async function reconcileAcrossChains(o: ReconcileAcrossOptions): Promise<ReconciliationReport> {
  const all = o.store.statement("SELECT number, tx_id FROM transactions ORDER BY number").all() as Array<{
    number: number;
    tx_id: string;
  }>;
  const wanted = o.txIds === undefined ? undefined : new Set(o.txIds.map((t) => t.toLowerCase()));
  const rows = wanted === undefined ? all : all.filter((r) => wanted.has(r.tx_id));
  const opened = rows.map((r) => ({ number: BigInt(r.number), txId: r.tx_id }));
  const ledger = opened.length === 0 ? null : await reconcile(o.ledger, { opened, pageSize: o.pageSize });
  const count = Number(await o.ledger.txCount());
  const block = await o.ledger.runner!.provider!.getBlock("latest");
  const report: ReconciliationReport = {
    generatedAt: block!.timestamp,
    checkpoint: o.store.checkpoint(),
    scanned: rows.length,
    missing: wanted === undefined ? Math.max(0, count - all.length) : 0,
    ledgerIssues: (ledger?.entries ?? []).map((e) => ledgerIssue(e, BigInt(block!.timestamp))),
    crossChain: [],
    unchecked: [],
  };
  for (const r of rows) {
    const trace = traceTransaction(o.store, r.tx_id)!;
    if (trace.results.length === 0 && trace.compensations.length === 0) continue;
    const problems = await crossCheck(o, trace, report);
    if (problems.length > 0)
      report.crossChain.push({
        txId: trace.txId,
        number: trace.number,
        state: trace.state,
        reason: trace.reason,
        problems,
      });
  }
  return report;
}

async function crossCheck(
  o: ReconcileAcrossOptions,
  trace: TxTrace,
  report: ReconciliationReport,
): Promise<CrossChainProblem[]> {
  const checks = await checkReceipts(o.store, trace, o.reader);
  const problems: CrossChainProblem[] = [];
  for (const c of checks)
    for (const p of c.problems) {
      if (p.code === "unchecked") report.unchecked.push({ txId: trace.txId, step: c.step, message: p.message });
      else problems.push({ step: c.step, code: p.code, message: `${c.kind} of step ${c.step}: ${p.message}` });
    }
  for (const step of trace.steps.filter((s) => s.operation === "write" && s.done)) {
    const problem = await writeProblem(o, trace, step.index, step.undone, checks);
    if (typeof problem === "string") report.unchecked.push({ txId: trace.txId, step: step.index, message: problem });
    else if (problem !== null) problems.push(problem);
  }
  return problems;
}

/** What the gateway says about a completed write, against what the ledger says; a string: why it was not checked. */
async function writeProblem(
  o: ReconcileAcrossOptions,
  trace: TxTrace,
  step: number,
  undoneOnLedger: boolean,
  checks: ReceiptCheck[],
): Promise<CrossChainProblem | string | null> {
  const result = checks.find((c) => c.kind === "result" && c.step === step);
  const subchain = trace.results.find((r) => r.step === step)?.subchain ?? trace.steps[step]?.subchain;
  const info = subchain ? subchainInfo(o.store, subchain) : null;
  const sequence = result?.sequence;
  if (info === null || !sequence)
    return `write step ${step}: its sub-chain or packet sequence is unknown, its state on the sub-chain was not read`;
  if (!o.reader.has(info.chainId)) return `write step ${step}: no RPC configured for sub-chain ${info.chainId}`;
  const gateway = result?.gateway ?? info.gateway;
  let record;
  try {
    record = await o.reader.inboundRecord(info.chainId, gateway, trace.pipeId, BigInt(sequence));
  } catch (error) {
    return (
      `write step ${step}: reading the gateway on sub-chain ${info.chainId} failed: ` +
      `${(error as Error).message.split("\n")[0]}`
    );
  }
  const where = `write step ${step} (pipe ${trace.pipeId} sequence ${sequence} on sub-chain ${info.chainId})`;
  const final = parseState(trace.state);
  if (record.target === zeroAddress)
    return { step, code: "write-missing", message: `${where} never ran on the sub-chain's gateway` };
  if (!record.success)
    return { step, code: "write-failed", message: `${where} failed on the sub-chain, the ledger recorded it as done` };
  if (undoneOnLedger && !record.compensated)
    return {
      step,
      code: "write-not-undone",
      message: `${where} is recorded as undone on the ledger (${trace.state}) but not compensated on the sub-chain`,
    };
  if (!undoneOnLedger && record.compensated && (final === TxState.Confirmed || final === TxState.Executed))
    return {
      step,
      code: "write-undone",
      message: `${where} was compensated on the sub-chain although the ledger ${trace.state.toLowerCase()} it`,
    };
  return null;
}
