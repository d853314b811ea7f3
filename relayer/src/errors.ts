/**
 * The one base error of the relayer (viem `BaseError` style): a stable machine-readable `code`, a short
 * human message, structured `details` for logs and refusal records, and the underlying `cause`.
 */
export class CcgpError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
