import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level: LogLevel;
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

/** The root logger: structured JSON lines (pino), one per event. */
export function createLogger(options: LoggerOptions): Logger {
  const base = options.institutionId === undefined ? {} : { institution: options.institutionId };
  return pino(
    {
      level: options.level,
      base,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination(1),
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
