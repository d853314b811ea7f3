/**
 * Anomaly warnings from the index: transactions stuck past their deadline, failures and expiries, transactions
 * waiting for a governor, endorsement conflicts, repeated refusals per pipe or per signer, and credit drops.
 * "Now" is the block time of the index's checkpoint unless given, so the answer only depends on the index.
 */
import type { Address, Hex } from "viem";
import { TxState } from "../../lib/domain/ledger-types";
import { badInput } from "./errors";
import { bitsOf, reasonName, stateName } from "./names";
import type { IndexStore } from "./store";

export type AnomalyKind =
  "stuck" | "failed" | "expired" | "escalated" | "conflict" | "repeated-refusals" | "credit-drop";
export type Severity = "high" | "medium" | "low";

export interface Anomaly {
  kind: AnomalyKind;
  severity: Severity;
  message: string;
  /** Block time of the event behind it (the latest one for a group), unix seconds. */
  at: number | null;
  txId?: Hex;
  pipeId?: Hex;
  signer?: Address;
  institution?: number;
  count?: number;
}

export interface AnomalyOptions {
  /** Unix seconds (default: the checkpoint's block time). */
  now?: number;
  /** Window for failures, conflicts, refusals and credit drops (unix seconds, inclusive; default: everything). */
  from?: number;
  to?: number;
  /** Refusals on one pipe, or of one signer, in the window that raise a warning (default 3). */
  refusalThreshold?: number;
  /** Credit points an institution must lose in the window to raise a warning (default 1). */
  creditDropThreshold?: number;
  /** Seconds past the deadline before an unfinished transaction counts as stuck (default 0). */
  stuckGraceSeconds?: number;
}

export interface AnomalyReport {
  now: number;
  from: number | null;
  to: number | null;
  refusalThreshold: number;
  creditDropThreshold: number;
  counts: Record<AnomalyKind, number>;
  anomalies: Anomaly[];
}

const SEVERITY_ORDER: Record<Severity, number> = { high: 0, medium: 1, low: 2 };
const UNFINISHED = [
  TxState.Open,
  TxState.Executing,
  TxState.Executed,
  TxState.Failed,
  TxState.Compensating,
  TxState.Expired,
  TxState.Committing,
];

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw badInput(`${name} must be a positive integer`, { [name]: value });
  return value;
}

export function findAnomalies(store: IndexStore, o: AnomalyOptions = {}): AnomalyReport {
  const now = o.now ?? store.checkpoint()?.timestamp ?? Math.floor(Date.now() / 1000);
  // Event ids of the window's blocks (an empty range when no block is in it).
  const [from, to] = store.idRange(o.from, o.to) ?? [1, 0];
  const window = { from, to };
  const refusalThreshold = positive("refusalThreshold", o.refusalThreshold ?? 3);
  const creditDropThreshold = positive("creditDropThreshold", o.creditDropThreshold ?? 1);
  const anomalies = [
    ...stuck(store, now, o.stuckGraceSeconds ?? 0),
    ...transitions(store, window),
    ...conflicts(store, window),
    ...refusals(store, window, refusalThreshold),
    ...creditDrops(store, window, creditDropThreshold),
  ].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (a.at ?? 0) - (b.at ?? 0));
  const counts = Object.fromEntries(
    (["stuck", "failed", "expired", "escalated", "conflict", "repeated-refusals", "credit-drop"] as AnomalyKind[]).map(
      (k) => [k, anomalies.filter((a) => a.kind === k).length],
    ),
  ) as Record<AnomalyKind, number>;
  return { now, from: o.from ?? null, to: o.to ?? null, refusalThreshold, creditDropThreshold, counts, anomalies };
}

interface StuckRow {
  tx_id: Hex;
  pipe_id: Hex;
  state: number;
  reason: number;
  deadline: number;
  write_mask: number;
  done_mask: number;
  undone_mask: number;
}

/** Unfinished past the deadline (a failed or expired one with nothing to undo is finished), and every Manual one. */
function stuck(store: IndexStore, now: number, grace: number): Anomaly[] {
  const rows = store
    .statement(
      `SELECT tx_id, pipe_id, state, reason, deadline, write_mask, done_mask, undone_mask FROM transactions
                WHERE state IN (${UNFINISHED.join(", ")}) AND deadline < ? ORDER BY deadline`,
    )
    .all(now - grace) as StuckRow[];
  const out: Anomaly[] = [];
  for (const r of rows) {
    const inEffect = bitsOf(r.done_mask & r.write_mask & ~r.undone_mask);
    if ((r.state === TxState.Failed || r.state === TxState.Expired) && inEffect.length === 0) continue;
    const writes = inEffect.length > 0 ? `, writes still in effect: step ${inEffect.join(", ")}` : "";
    out.push({
      kind: "stuck",
      severity: "high",
      at: r.deadline,
      txId: r.tx_id,
      pipeId: r.pipe_id,
      message: `${r.tx_id} is ${stateName(r.state)} ${now - r.deadline}s past its deadline${writes}`,
    });
  }
  const manual = store
    .statement("SELECT tx_id, pipe_id, reason, updated_at FROM transactions WHERE state = ? ORDER BY updated_at")
    .all(TxState.Manual) as Array<{ tx_id: Hex; pipe_id: Hex; reason: number; updated_at: number }>;
  for (const r of manual)
    out.push({
      kind: "escalated",
      severity: "medium",
      at: r.updated_at,
      txId: r.tx_id,
      pipeId: r.pipe_id,
      message:
        `${r.tx_id} waits for a governor (reason ${reasonName(r.reason)}) since ` +
        `${new Date(r.updated_at * 1000).toISOString()}`,
    });
  return out;
}

/** A window as a range of event ids (rowids). */
interface Window {
  from: number;
  to: number;
}

function transitions(store: IndexStore, w: Window): Anomaly[] {
  const rows = store
    .statement(
      `SELECT tx_id, pipe_id, state, json_extract(args, '$.reason') AS reason, timestamp FROM events
                WHERE state IN (?, ?) AND id BETWEEN ? AND ? AND contract = 'ledger' AND event = 'TxTransitioned'
                ORDER BY id, position`,
    )
    .all(TxState.Failed, TxState.Expired, w.from, w.to) as Array<{
    tx_id: Hex;
    pipe_id: Hex | null;
    state: number;
    reason: number;
    timestamp: number;
  }>;
  const pipes = store.statement("SELECT pipe_id FROM transactions WHERE tx_id = ?");
  return rows.map((r) => {
    const pipeId = (pipes.get(r.tx_id) as { pipe_id: Hex } | undefined)?.pipe_id;
    const failed = r.state === TxState.Failed;
    return {
      kind: failed ? "failed" : "expired",
      severity: "medium",
      at: r.timestamp,
      txId: r.tx_id,
      ...(pipeId ? { pipeId } : {}),
      message: `${r.tx_id} ${failed ? `failed (${reasonName(r.reason)})` : "expired before every step was recorded"}`,
    } satisfies Anomaly;
  });
}

function conflicts(store: IndexStore, w: Window): Anomaly[] {
  const rows = store
    .statement(
      `SELECT tx_id, account, json_extract(args, '$.weight') AS weight, json_extract(args, '$.weightAgainst') AS
      against,
                json_extract(args, '$.totalWeight') AS total, timestamp FROM events
                WHERE event = 'EndorsementConflicted' AND id BETWEEN ? AND ? AND contract = 'ledger'
                ORDER BY id, position`,
    )
    .all(w.from, w.to) as Array<{
    tx_id: Hex;
    account: Address;
    weight: number;
    against: number;
    total: number;
    timestamp: number;
  }>;
  return rows.map((r) => ({
    kind: "conflict",
    severity: "medium",
    at: r.timestamp,
    txId: r.tx_id,
    signer: r.account,
    message:
      `verifier ${r.account} (weight ${r.weight}) endorsed another result set of ${r.tx_id}: ${r.against} of ` +
      `${r.total} against`,
  }));
}

function refusals(store: IndexStore, w: Window, threshold: number): Anomaly[] {
  const byPipe = store
    .statement(
      `SELECT pipe_id, COUNT(*) AS n, MAX(timestamp) AS last, GROUP_CONCAT(DISTINCT json_extract(args, '$.kind')) AS
      kinds FROM events
                WHERE event = 'RefusalRecorded' AND id BETWEEN ? AND ? AND contract = 'ledger' GROUP BY pipe_id
                HAVING n >= ? ORDER BY n DESC`,
    )
    .all(w.from, w.to, threshold) as Array<{ pipe_id: Hex; n: number; last: number; kinds: string }>;
  const bySigner = store
    .statement(
      `SELECT p.declared_signer AS signer, COUNT(*) AS n, MAX(e.timestamp) AS last FROM packets p
                JOIN events e ON e.id = p.block * 1048576 + p.log_index
                WHERE p.kind = 'refusal' AND e.id BETWEEN ? AND ? GROUP BY p.declared_signer HAVING n >= ? ORDER BY n
                DESC`,
    )
    .all(w.from, w.to, threshold) as Array<{ signer: Address; n: number; last: number }>;
  const kinds = (k: string) =>
    k
      .split(",")
      .map((x) => (x === "0" ? "BadSignature" : x === "1" ? "Replay" : x))
      .join(", ");
  return [
    ...byPipe.map((r): Anomaly => ({
      kind: "repeated-refusals",
      severity: "high",
      at: r.last,
      pipeId: r.pipe_id,
      count: r.n,
      message: `${r.n} refused packets proved on pipe ${r.pipe_id} (${kinds(r.kinds)}), threshold ${threshold}`,
    })),
    ...bySigner.map((r): Anomaly => ({
      kind: "repeated-refusals",
      severity: "high",
      at: r.last,
      signer: r.signer,
      count: r.n,
      message: `${r.n} refused packets declared signer ${r.signer}, threshold ${threshold}`,
    })),
  ];
}

function creditDrops(store: IndexStore, w: Window, threshold: number): Anomaly[] {
  const rows = store
    .statement(
      `SELECT institution, SUM(CAST(json_extract(args, '$.delta') AS INTEGER)) AS drop_sum, COUNT(*) AS n,
      MAX(timestamp) AS last,
                MIN(CAST(json_extract(args, '$.score') AS INTEGER)) AS lowest FROM events
                WHERE event IN ('OutcomeReported', 'CreditAdjusted') AND id BETWEEN ? AND ? AND contract = 'credit'
                AND CAST(json_extract(args, '$.delta') AS INTEGER) < 0 GROUP BY institution HAVING -drop_sum >= ?
                ORDER BY drop_sum`,
    )
    .all(w.from, w.to, threshold) as Array<{
    institution: number;
    drop_sum: number;
    n: number;
    last: number;
    lowest: number;
  }>;
  const severe =
    store.statement(`SELECT COUNT(*) AS n FROM events WHERE institution = ? AND event IN ('CreditRestricted',
      'CreditExpulsionProposed')
                                  AND id BETWEEN ? AND ? AND contract = 'credit'`);
  return rows.map((r) => {
    const restricted = (severe.get(r.institution, w.from, w.to) as { n: number }).n > 0;
    return {
      kind: "credit-drop",
      severity: restricted ? "high" : "medium",
      at: r.last,
      institution: r.institution,
      count: r.n,
      message:
        `institution ${r.institution} lost ${-r.drop_sum} credit points in ${r.n} report(s), lowest score ` +
        `${r.lowest}${restricted ? ", now restricted or facing expulsion" : ""}`,
    } satisfies Anomaly;
  });
}
