/**
 * What every list command shares: filters (each takes comma-separated values, any of which may match, by id or by
 * name), pages, and the output as a table, `--json`, or `--csv`, to stdout or to a file (`--out`).
 */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { usage } from "./errors";
import { table, toJson, type Output } from "./output";
import { positiveArg, uint64Arg } from "./parse";

export type Row = Record<string, unknown>;

export interface Filter {
  /** `--institution <id|name>`. */
  flag: string;
  help: string;
  /** Whether the row matches one wanted value (already lower-cased). */
  match: (row: Row, wanted: string) => boolean;
}

/** A filter on one or more fields: a row matches when any of them equals the value (case-insensitive). */
export function fieldFilter(flag: string, help: string, ...fields: string[]): Filter {
  return {
    flag,
    help,
    match: (row, wanted) =>
      fields.some((f) => row[f] !== undefined && row[f] !== null && String(row[f]).toLowerCase() === wanted),
  };
}

export interface ListOptions {
  page: bigint;
  pageSize: bigint;
  json?: boolean;
  csv?: boolean;
  out?: string;
  fromBlock: bigint;
  logRange: bigint;
  [flag: string]: unknown;
}

/** The option name commander gives `--page-size <n>`: `pageSize`. */
const optionKey = (flag: string): string =>
  flag
    .replace(/^--/, "")
    .split(" ")[0]!
    .replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Adds the filters, paging, output and event-scan options. */
export function withListing(cmd: Command, filters: Filter[]): Command {
  for (const f of filters) cmd.option(f.flag, `${f.help} (comma-separated: any of them)`);
  return cmd
    .option("--page <n>", "page to show, from 1", positiveArg, 1n)
    .option("--page-size <n>", "rows per page", positiveArg, 50n)
    .option("--csv", "print CSV (a header line, then one line per row)")
    .option("--out <file>", "write the output to this file instead of stdout")
    .option("--from-block <n>", "first block of the event scan (the deployment block)", uint64Arg, 0n)
    .option("--log-range <n>", "blocks per eth_getLogs call", positiveArg, 10_000n);
}

export function applyFilters(rows: Row[], filters: Filter[], opts: ListOptions): Row[] {
  let kept = rows;
  for (const f of filters) {
    const given = opts[optionKey(f.flag)];
    if (given === undefined) continue;
    const wanted = String(given)
      .split(",")
      .map((v) => v.trim().toLowerCase())
      .filter((v) => v !== "");
    if (wanted.length === 0) throw usage(f.flag.split(" ")[0]!, "expected at least one value");
    kept = kept.filter((row) => wanted.some((w) => f.match(row, w)));
  }
  return kept;
}

const csvCell = (v: unknown): string => {
  const text =
    v === null || v === undefined
      ? ""
      : typeof v === "object"
        ? JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x))
        : String(v);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

export function toCsv(rows: Row[]): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return [keys.join(","), ...rows.map((r) => keys.map((k) => csvCell(r[k])).join(","))].join("\n") + "\n";
}

export interface Listing {
  /** `institutions`, for messages. */
  what: string;
  /** Table columns: [title, cell of a row]. */
  columns: [string, (row: Row) => string][];
  rows: Row[];
}

/** Prints the page asked for, in the format asked for, to stdout or `--out`. */
export function printListing(out: Output, opts: ListOptions, listing: Listing): void {
  if (opts.json && opts.csv) throw usage("--csv", "give --json or --csv, not both");
  const total = listing.rows.length;
  const size = Number(opts.pageSize);
  const pages = Math.max(1, Math.ceil(total / size));
  const page = Number(opts.page);
  if (page > pages && total > 0)
    throw usage("--page", `there are ${pages} page(s) of ${size} ${listing.what} (${total} in all)`);
  const shown = listing.rows.slice((page - 1) * size, page * size);
  let text: string;
  if (opts.json) text = `${toJson({ [listing.what]: shown, total, page, pageSize: size, pages })}\n`;
  else if (opts.csv) text = toCsv(shown);
  else if (total === 0) text = `no ${listing.what}\n`;
  else {
    const lines = table([
      listing.columns.map(([title]) => title),
      ...shown.map((r) => listing.columns.map(([, cell]) => cell(r))),
    ]);
    if (pages > 1)
      lines.push(`page ${page} of ${pages} (${total} ${listing.what}); next: --page ${Math.min(page + 1, pages)}`);
    text = `${lines.join("\n")}\n`;
  }
  if (opts.out) {
    writeFileSync(opts.out, text);
    out.progress(`${shown.length} ${listing.what} written to ${opts.out}`);
  } else out.io.stdout(text);
}
