/**
 * Lists transactions and events from the index by institution, pipe, account, state and time range (block
 * time, unix seconds, inclusive). Every filter is a SQL parameter on an indexed column.
 */
import { getAddress, isAddress, type Address, type Hex } from "viem";
import type { TxState } from "../../lib/domain/ledger-types";
import { badInput } from "./errors";
import { EVENT_SELECT, type EventDbRow, type IndexStore } from "./store";
import { summaryOf, type TxRow, type TxSummary } from "./trace";
import type { EventRow } from "./types";

export interface ListFilter {
  institution?: number;
  pipe?: Hex;
  /** Any account that acted on it (opener, recorder, verifier, governor...) or an app key that signed its packets. */
  account?: Address;
  states?: TxState[];
  /** Inclusive bounds on the opening time (transactions) or the block time (events), unix seconds. */
  from?: number;
  to?: number;
  limit?: number;
  offset?: number;
  /** Newest (highest number) first; default oldest first. */
  newestFirst?: boolean;
}

export interface EventFilter extends Omit<ListFilter, "states"> {
  txId?: Hex;
  states?: TxState[];
  contract?: string;
  event?: string;
}

export const MAX_LIMIT = 100_000;

export function parseAccount(value: string): Address {
  if (!isAddress(value, { strict: false }))
    throw badInput(`account "${value}" is not a 20-byte hex address`, { value });
  return getAddress(value);
}

export function parseBytes32(value: string, what: string): Hex {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value))
    throw badInput(`${what} "${value}" is not 0x-prefixed 32-byte hex`, { value });
  return value.toLowerCase() as Hex;
}

function page(f: { limit?: number; offset?: number }): [number, number] {
  const limit = f.limit ?? 1000;
  const offset = f.offset ?? 0;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw badInput(`limit must be 1 to ${MAX_LIMIT}`, { limit });
  if (!Number.isSafeInteger(offset) || offset < 0) throw badInput("offset must be a non-negative integer", { offset });
  return [limit, offset];
}

function timeBounds(column: string, f: { from?: number; to?: number }, where: string[], params: unknown[]): void {
  if (f.from !== undefined) (where.push(`${column} >= ?`), params.push(f.from));
  if (f.to !== undefined) (where.push(`${column} <= ?`), params.push(f.to));
}

/** Transactions matching every given filter, by opening order. */
export function listTransactions(store: IndexStore, f: ListFilter = {}): TxSummary[] {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.institution !== undefined)
    (where.push("(source_institution = ? OR target_institution = ?)"), params.push(f.institution, f.institution));
  if (f.pipe !== undefined) (where.push("pipe_id = ?"), params.push(f.pipe.toLowerCase()));
  if (f.states !== undefined && f.states.length > 0)
    (where.push(`state IN (${f.states.map(() => "?").join(", ")})`), params.push(...f.states));
  if (f.account !== undefined) {
    where.push(`(opener = ? OR tx_id IN (SELECT tx_id FROM events WHERE account = ? AND tx_id IS NOT NULL)
                 OR tx_id IN (SELECT tx_id FROM packets WHERE declared_signer = ?))`);
    params.push(f.account, f.account, f.account);
  }
  timeBounds("opened_at", f, where, params);
  const [limit, offset] = page(f);
  const sql =
    `SELECT * FROM transactions ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY number ` +
    `${f.newestFirst ? "DESC" : "ASC"} LIMIT ? OFFSET ?`;
  return (store.statement(sql).all(...params, limit, offset) as TxRow[]).map(summaryOf);
}

/** Events matching every given filter, in chain order. A time range is turned into a range of event ids. */
export function listEvents(store: IndexStore, f: EventFilter = {}): EventRow[] {
  const where: string[] = [];
  const params: unknown[] = [];
  const eq = (column: string, value: unknown) =>
    value !== undefined && (where.push(`e.${column} = ?`), params.push(value));
  eq("tx_id", f.txId?.toLowerCase());
  eq("pipe_id", f.pipe?.toLowerCase());
  eq("institution", f.institution);
  eq("account", f.account);
  eq("contract", f.contract);
  eq("event", f.event);
  if (f.states !== undefined && f.states.length > 0)
    (where.push(`e.state IN (${f.states.map(() => "?").join(", ")})`), params.push(...f.states));
  const [limit, offset] = page(f);
  if (f.from !== undefined || f.to !== undefined) {
    const ids = store.idRange(f.from, f.to);
    if (ids === null) return [];
    where.push("e.id BETWEEN ? AND ?");
    params.push(...ids);
  }
  const filter = where.length ? `WHERE ${where.join(" AND ")}` : "";
  const sql = `${EVENT_SELECT} ${filter} ORDER BY e.id, e.position LIMIT ? OFFSET ?`;
  return store.toEvents(store.statement(sql).all(...params, limit, offset) as EventDbRow[]);
}
