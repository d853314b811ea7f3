/**
 * Reconciliation of the transaction ledger: finds every transaction through the indexed `TxOpened` events (read in
 * block ranges), asks the ledger about them in bounded pages (`unresolvedAmong`) and lists those whose final state
 * is not consistent across chains (completed writes not undone, waiting for a governor, disputed by a verifier) or
 * that are still unresolved past their deadline.
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
  /** Transactions looked at (one per TxOpened event). */
  scanned: bigint;
  /** Transactions the ledger counts but whose TxOpened event was not found (e.g. fromBlock too late). */
  missing: bigint;
  entries: ReconcileEntry[];
}

export interface ReconcileOptions {
  /** Transactions per `unresolvedAmong` call (at most the ledger's MAX_PAGE; default 200). */
  pageSize?: number;
  /** The block the ledger was deployed in, where the event scan starts (default 0). */
  fromBlock?: number;
  /** Blocks per `eth_getLogs` call, for RPC nodes that limit the range (default 10,000). */
  blockRange?: number;
  /** The opened transactions, when the caller already has them (e.g. from the auditor's index): no event scan. */
  opened?: { number: bigint; txId: string }[];
}

/** The transactions opened, in the order of their numbers, from the indexed TxOpened events. */
export async function openedTransactions(
  ledger: TransactionLedger,
  opts: ReconcileOptions = {},
): Promise<{ number: bigint; txId: string }[]> {
  const latest = await ledger.runner!.provider!.getBlockNumber();
  const range = opts.blockRange ?? 10_000;
  const found: { number: bigint; txId: string }[] = [];
  for (let from = opts.fromBlock ?? 0; from <= latest; from += range) {
    const logs = await ledger.queryFilter(ledger.filters.TxOpened(), from, Math.min(from + range - 1, latest));
    for (const log of logs) found.push({ number: log.args.number, txId: log.args.txId });
  }
  return found.sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));
}

const UNDONE_MATTERS = new Set<number>([TxState.Failed, TxState.Compensating, TxState.Expired, TxState.Manual]);

const bitsOf = (mask: bigint): number[] => [...Array(8).keys()].filter((i) => (mask >> BigInt(i)) & 1n);

/** Lists every transaction with an issue. */
export async function reconcile(ledger: TransactionLedger, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  const pageSize = opts.pageSize ?? 200;
  const opened = opts.opened ?? (await openedTransactions(ledger, opts));
  const numbers = new Map(opened.map((o) => [o.txId, o.number]));
  const entries: ReconcileEntry[] = [];
  for (let i = 0; i < opened.length; i += pageSize) {
    const page = opened.slice(i, i + pageSize).map((o) => o.txId);
    for (const item of await ledger.unresolvedAmong(page)) {
      const view = await ledger.transaction(item.txId);
      entries.push({
        number: numbers.get(item.txId)!,
        txId: item.txId,
        pipeId: view.pipeId,
        state: Number(item.state) as TxState,
        reason: Number(item.reason) as Reason,
        issue: Number(item.issue) as Issue,
        deadline: item.deadline,
        stepsDone: bitsOf(view.doneMask).length,
        stepCount: Number(view.stepCount),
        writesNotUndone: UNDONE_MATTERS.has(Number(item.state))
          ? bitsOf(view.doneMask & view.writeMask & ~view.undoneMask)
          : [],
        weightAgainst: view.weightAgainst,
      });
    }
  }
  const count = await ledger.txCount();
  const block = await ledger.runner!.provider!.getBlock("latest");
  return {
    now: BigInt(block!.timestamp),
    scanned: BigInt(opened.length),
    missing: count - BigInt(opened.length),
    entries,
  };
}

/** The report as text, one line per transaction. */
export function formatReport(report: ReconcileReport): string {
  const lines = [
    `reconciliation at ${new Date(Number(report.now) * 1000).toISOString()}: ${report.scanned} transaction(s) ` +
      `scanned, ${report.entries.length} to look at`,
  ];
  if (report.missing > 0n)
    lines.push(
      `  WARNING: ${report.missing} opened transaction(s) not found in the events: scan from an earlier block`,
    );
  for (const e of report.entries) {
    const late = report.now > e.deadline ? `, ${report.now - e.deadline}s past its deadline` : "";
    const writes = e.writesNotUndone.length > 0 ? `, writes not undone: step ${e.writesNotUndone.join(", ")}` : "";
    const dispute = e.weightAgainst > 0n ? `, weight ${e.weightAgainst} endorsed another result set` : "";
    lines.push(
      `  #${e.number} ${e.txId} pipe ${e.pipeId}: ${Issue[e.issue]} (${TxState[e.state]}, reason ` +
        `${Reason[e.reason]}, ` +
        `${e.stepsDone}/${e.stepCount} steps${writes}${dispute}${late})`,
    );
  }
  return lines.join("\n");
}
