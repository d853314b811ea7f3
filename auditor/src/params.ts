/** Parsing of the filters and options shared by the CLI and the HTTP API; every refusal names the parameter. */
import type { AnomalyOptions } from "./anomalies";
import { badInput } from "./errors";
import type { ExportFormat } from "./export";
import { MAX_LIMIT, parseAccount, parseBytes32, type EventFilter, type ListFilter } from "./list";
import { parseState } from "./names";
import { parseTxId } from "./trace";

/** A named parameter source: a URL's query, or the CLI's options. */
export type Params = (name: string) => string | undefined;

/** Unix seconds, or an ISO 8601 date. */
export function parseTime(value: string, name: string): number {
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw badInput(`${name} "${value}" is neither unix seconds nor an ISO 8601 date`, { [name]: value });
  return Math.floor(ms / 1000);
}

export function parseInteger(value: string, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
    throw badInput(`${name} "${value}" must be an integer from ${min} to ${max}`, { [name]: value });
  return n;
}

export function parseFormat(value: string | undefined): ExportFormat {
  if (value === undefined || value === "json") return "json";
  if (value === "csv") return "csv";
  throw badInput(`format "${value}" is not json or csv`, { format: value });
}

function optional<T>(p: Params, name: string, parse: (v: string, name: string) => T): T | undefined {
  const v = p(name);
  return v === undefined || v === "" ? undefined : parse(v, name);
}

export function listFilterFrom(p: Params): ListFilter {
  return {
    institution: optional(p, "institution", (v, n) => parseInteger(v, n, 1, 0xffffffff)),
    pipe: optional(p, "pipe", (v) => parseBytes32(v, "pipe")),
    account: optional(p, "account", parseAccount),
    states: optional(p, "state", (v) => v.split(",").map((s) => parseState(s.trim()))),
    from: optional(p, "from", parseTime),
    to: optional(p, "to", parseTime),
    limit: optional(p, "limit", (v, n) => parseInteger(v, n, 1, MAX_LIMIT)),
    offset: optional(p, "offset", (v, n) => parseInteger(v, n, 0)),
  };
}

export function eventFilterFrom(p: Params): EventFilter {
  return {
    ...listFilterFrom(p),
    txId: optional(p, "tx", parseTxId),
    contract: optional(p, "contract", (v) => v),
    event: optional(p, "event", (v) => v),
  };
}

export function anomalyOptionsFrom(p: Params): AnomalyOptions {
  return {
    now: optional(p, "now", parseTime),
    from: optional(p, "from", parseTime),
    to: optional(p, "to", parseTime),
    refusalThreshold: optional(p, "refusalThreshold", (v, n) => parseInteger(v, n, 1)),
    creditDropThreshold: optional(p, "creditDropThreshold", (v, n) => parseInteger(v, n, 1)),
    stuckGraceSeconds: optional(p, "stuckGrace", (v, n) => parseInteger(v, n, 0)),
  };
}

/** Drops undefined fields, so that option objects compare and print cleanly. */
export function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
