import pino, { type DestinationStream, type LogFn, type Logger } from "pino";

export type { Logger } from "pino";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ["auto", "json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  level: LogLevel;
  /**
   * `json`: one JSON object a line (for files and log collectors); `pretty`: one readable line an event; `auto`
   * (default): pretty when writing to a terminal, JSON otherwise (the config's `log.format`, or `CCGP_LOG_FORMAT`).
   */
  format?: LogFormat;
  /**
   * The same warning or error repeated is logged once, then counted and summed up every this many ms (default 30 s).
   */
  repeatWindowMs?: number;
  /** Institution id, stamped on every line so logs of several relayers can be merged. */
  institutionId?: number;
  /** Where lines go; stdout by default. Tests pass a stream they can read. */
  destination?: DestinationStream;
}

/**
 * Field paths whose values are never written to logs, even if a caller passes them by mistake:
 * keys and passwords must not leak through a debug line.
 */
export const REDACTED_PATHS = [
  "password",
  "privateKey",
  "mnemonic",
  "secret",
  "*.password",
  "*.privateKey",
  "*.mnemonic",
  "*.secret",
];

/**
 * An error as one line: viem's short message and details once each (not its request body), and the root cause's code.
 */
export function errorLine(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { shortMessage?: unknown; details?: unknown; code?: unknown };
  const parts: string[] = [];
  // Only strings: a CcgpError's `details` is a record, not viem's text.
  const add = (text: unknown) => {
    const t = typeof text === "string" ? text.trim().replace(/\.$/, "") : undefined;
    if (t && !parts.some((p) => p.includes(t))) parts.push(t);
  };
  add(typeof e.shortMessage === "string" ? e.shortMessage : e.message.split("\n")[0]);
  add(e.details);
  for (let c: unknown = e.cause, depth = 0; c instanceof Error && depth < 5; c = c.cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) add(code);
  }
  return parts.join(": ");
}

/**
 * `err` fields: name, code and one line at info level; the stack and the full message (with a request body, when
 * viem put one in) only at debug level and below.
 */
function errSerializer(verbose: boolean) {
  return (err: unknown): unknown => {
    if (!(err instanceof Error)) return err;
    const code = (err as { code?: unknown }).code;
    const base = { type: err.name, ...(code !== undefined ? { code } : {}), message: errorLine(err) };
    return verbose ? { ...base, full: err.message, stack: err.stack } : base;
  };
}

const LEVEL_NAMES: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};
const SKIP = new Set(["level", "time", "msg", "pid", "hostname", "institution", "module"]);

/**
 * One JSON log line as one readable line:
 * `12:00:01.234 WARN  governance: poll failed; retrying  err="…" chain=sub_a`.
 */
export function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof o.time === "string" ? o.time.slice(11, 23) : "";
  const level = (LEVEL_NAMES[o.level as number] ?? String(o.level)).padEnd(5);
  const where = o.module ? `${o.module as string}: ` : "";
  const fields = Object.entries(o)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => {
      if (k === "err" && typeof v === "object" && v !== null)
        return `err=${JSON.stringify((v as { message?: string }).message)}`;
      return `${k}=${typeof v === "string" ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`;
    });
  return `${time} ${level} ${where}${o.msg as string}${fields.length ? `  ${fields.join(" ")}` : ""}\n`;
}

/** A destination that writes each JSON line as a readable one. */
function prettyDestination(out: DestinationStream): DestinationStream {
  return { write: (line: string) => out.write(prettyLine(line)) };
}

/**
 * The same fault (level warn and above, same message, same error) logged once; its repeats are counted and summed
 * up in one line every `windowMs`, then forgotten, so the next one is logged again in full.
 */
function repeatsCounted(windowMs: number) {
  const seen = new Map<string, { count: number; log: () => void }>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    for (const [key, entry] of seen) {
      if (entry.count === 0) seen.delete(key);
      else {
        entry.log();
        entry.count = 0;
      }
    }
    if (seen.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  return function logMethod(this: Logger, args: Parameters<LogFn>, method: LogFn, level: number): void {
    if (level < 40) return method.apply(this, args);
    const [first, second] = args as unknown[];
    const obj = typeof first === "object" && first !== null ? (first as Record<string, unknown>) : undefined;
    const msg = obj ? second : first;
    const key = `${level}|${JSON.stringify(this.bindings())}|${String(msg)}|${obj?.err ? errorLine(obj.err) : ""}`;
    const entry = seen.get(key);
    if (entry) {
      entry.count++;
      return;
    }
    method.apply(this, args);
    const summary = {
      count: 0,
      log: () =>
        method.call(
          this,
          { repeated: summary.count, seconds: windowMs / 1000, ...(obj?.err ? { err: obj.err } : {}) },
          `${String(msg)} (${summary.count} more time(s) in the last ${windowMs / 1000} s)`,
        ),
    };
    seen.set(key, summary);
    if (!timer) {
      timer = setInterval(flush, windowMs);
      timer.unref();
    }
  };
}

/** The root logger (pino): JSON lines, or readable lines on a terminal; repeated faults counted. */
export function createLogger(options: LoggerOptions): Logger {
  const base = options.institutionId === undefined ? {} : { institution: options.institutionId };
  const format = options.format ?? "auto";
  const out = options.destination ?? pino.destination(1);
  const pretty =
    format === "pretty" || (format === "auto" && options.destination === undefined && process.stdout.isTTY === true);
  const verbose = options.level === "debug" || options.level === "trace";
  return pino(
    {
      level: options.level,
      base,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: errSerializer(verbose) },
      hooks: { logMethod: repeatsCounted(options.repeatWindowMs ?? 30_000) },
    },
    pretty ? prettyDestination(out) : out,
  );
}

/** A child logger for one module (`config`, `store`, `chains.evm`, ...): every line carries `module`. */
export function moduleLogger(parent: Logger, module: string, bindings: Record<string, unknown> = {}): Logger {
  return parent.child({ module, ...bindings });
}

/** A logger that writes nothing, for library code used without a configured logger. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
