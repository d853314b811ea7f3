import { CcgpError } from "../../../lib/infra/errors";

/**
 * Why a command stopped, and so its exit code: bad input is 2 (the message names the argument), a refusal by a
 * contract or by the relayer is 1 (the message names the decoded custom error or the relayer's code), and any
 * other failure (an RPC that does not answer, a transaction that reverted on-chain) is 1.
 */
export const CliErrorCode = {
  Usage: "USAGE",
  Refused: "REFUSED",
  Failed: "FAILED",
} as const;
export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

export class CliError extends CcgpError<CliErrorCode> {
  get exitCode(): number {
    return this.code === CliErrorCode.Usage ? 2 : 1;
  }
}

/** Bad input: `argument` is the option or argument to fix (`--rpc`, `<txId>`, `CCGP_KEYSTORE_PASSWORD`). */
export function usage(argument: string, message: string, details: Record<string, unknown> = {}): CliError {
  return new CliError(CliErrorCode.Usage, `${argument}: ${message}`, { argument, ...details });
}

/** Something outside the input went wrong; `cause` is kept. */
export function failed(message: string, details: Record<string, unknown> = {}, cause?: unknown): CliError {
  return new CliError(CliErrorCode.Failed, message, details, cause === undefined ? undefined : { cause });
}
