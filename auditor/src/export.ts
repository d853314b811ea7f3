/** CSV and JSON exports of listed transactions and events, for spreadsheets and other tools. */
import type { TxSummary } from "./trace";
import type { EventRow } from "./types";

export type ExportFormat = "json" | "csv";

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break. A text cell a spreadsheet would
 * run as a formula (`=`, `+`, `-`, `@` and not a number) is prefixed with `'`.
 */
export function csvCell(value: unknown): string {
  let text =
    value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text) && !/^[+-]?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

export const TRANSACTION_COLUMNS = [
  "number",
  "txId",
  "pipeId",
  "state",
  "reason",
  "sourceInstitution",
  "targetInstitution",
  "opener",
  "openedAt",
  "openedBlock",
  "deadline",
  "updatedAt",
  "stepCount",
  "stepsDone",
  "writesInEffect",
];

export function transactionsCsv(rows: TxSummary[]): string {
  return toCsv(
    TRANSACTION_COLUMNS,
    rows.map((t) => [
      t.number,
      t.txId,
      t.pipeId,
      t.state,
      t.reason,
      t.sourceInstitution,
      t.targetInstitution,
      t.opener,
      iso(t.openedAt),
      t.openedBlock,
      iso(t.deadline),
      iso(t.updatedAt),
      t.stepCount,
      t.stepsDone,
      t.writesInEffect.join(" "),
    ]),
  );
}

export const EVENT_COLUMNS = [
  "block",
  "logIndex",
  "time",
  "txHash",
  "contract",
  "address",
  "event",
  "txId",
  "pipeId",
  "institution",
  "account",
  "state",
  "args",
];

export function eventsCsv(rows: EventRow[]): string {
  return toCsv(
    EVENT_COLUMNS,
    rows.map((e) => [
      e.block,
      e.logIndex,
      iso(e.timestamp),
      e.txHash,
      e.contract,
      e.address,
      e.event,
      e.txId,
      e.pipeId,
      e.institution,
      e.account,
      e.state,
      e.args,
    ]),
  );
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n";
}

export function exportTransactions(rows: TxSummary[], format: ExportFormat): string {
  return format === "csv" ? transactionsCsv(rows) : toJson(rows);
}

export function exportEvents(rows: EventRow[], format: ExportFormat): string {
  return format === "csv" ? eventsCsv(rows) : toJson(rows);
}
