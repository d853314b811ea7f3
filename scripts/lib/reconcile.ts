/**
 * Reconciliation of the transaction ledger: pages through every transaction with `unresolvedSince` and lists those
 * whose final state is not consistent across chains (completed writes not undone, waiting for a governor, disputed
 * by a verifier) or that are still unresolved past their deadline.
 */
import type { TransactionLedger } from "../../typechain-types";
import { Issue, Reason, TxState } from "./ledger-types";

export interface ReconcileEntry {
  number: bigint;
  txId: string;
  pipeId: string;
  state: TxState;
  reason: Reason;
  issue: Issue;
  deadline: bigint;
  stepsDone: number;
  stepCount: number;
  /** Of a transaction that did not complete (failed, expired, compensating, manual): completed writes not undone,
   * whose effects the sub-chains still hold. Empty otherwise. */
  writesNotUndone: number[];
  /** Verifier weight that endorsed another result set. */
  weightAgainst: bigint;
}

export interface ReconcileReport {
  /** Block time of the check. */
  now: bigint;
  /** Transactions looked at (1 .. txCount). */
  scanned: bigint;
  entries: ReconcileEntry[];
}

const UNDONE_MATTERS = new Set<number>([TxState.Failed, TxState.Compensating, TxState.Expired, TxState.Manual]);

const bitsOf = (mask: bigint): number[] => [...Array(8).keys()].filter((i) => (mask >> BigInt(i)) & 1n);

/** Lists every transaction with an issue, paging `pageSize` numbers at a time (at most the ledger's MAX_PAGE). */
export async function reconcile(ledger: TransactionLedger, opts: { pageSize?: number } = {}): Promise<ReconcileReport> {
  const pageSize = opts.pageSize ?? 200;
  const count = await ledger.txCount();
  const entries: ReconcileEntry[] = [];
  for (let from = 1n; from <= count; ) {
    const [items, next] = await ledger.unresolvedSince(from, pageSize);
    for (const item of items) {
      const view = await ledger.transaction(item.txId);
      entries.push({
        number: item.number,
        txId: item.txId,
        pipeId: view.pipeId,
        state: Number(item.state) as TxState,
        reason: Number(item.reason) as Reason,
        issue: Number(item.issue) as Issue,
        deadline: item.deadline,
        stepsDone: bitsOf(view.doneMask).length,
        stepCount: Number(view.stepCount),
        writesNotUndone: UNDONE_MATTERS.has(Number(item.state)) ? bitsOf(view.doneMask & view.writeMask & ~view.undoneMask) : [],
        weightAgainst: view.weightAgainst,
      });
    }
    from = next;
  }
  const block = await ledger.runner!.provider!.getBlock("latest");
  return { now: BigInt(block!.timestamp), scanned: count, entries };
}

/** The report as text, one line per transaction. */
export function formatReport(report: ReconcileReport): string {
  const lines = [`reconciliation at ${new Date(Number(report.now) * 1000).toISOString()}: ${report.scanned} transaction(s) scanned, ${report.entries.length} to look at`];
  for (const e of report.entries) {
    const late = report.now > e.deadline ? `, ${report.now - e.deadline}s past its deadline` : "";
    const writes = e.writesNotUndone.length > 0 ? `, writes not undone: step ${e.writesNotUndone.join(", ")}` : "";
    const dispute = e.weightAgainst > 0n ? `, weight ${e.weightAgainst} endorsed another result set` : "";
    lines.push(
      `  #${e.number} ${e.txId} pipe ${e.pipeId}: ${Issue[e.issue]} (${TxState[e.state]}, reason ${Reason[e.reason]}, ` +
        `${e.stepsDone}/${e.stepCount} steps${writes}${dispute}${late})`,
    );
  }
  return lines.join("\n");
}
