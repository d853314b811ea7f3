/**
 * The one base error of the relayer (after viem's `BaseError`): a stable machine-readable `code`, a short human
 * message, structured `details` for logs and refusal records, and the underlying `cause` when there is one.
 * Each module extends it with its own codes (e.g. `AmdpError`, `ConfigError`).
 */
export class CcgpError<Code extends string = string> extends Error {
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    readonly code: Code,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = Object.freeze({ ...details });
  }

  /** A JSON-safe view for structured logs and refusal records (bigints as decimal strings). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      details: JSON.parse(JSON.stringify(this.details, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))),
      cause: this.cause instanceof Error ? this.cause.message : this.cause,
    };
  }
}
