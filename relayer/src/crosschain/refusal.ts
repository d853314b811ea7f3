/**
 * Refusals of bad input: every refused packet or request gets a stable code, a message naming what is wrong, an
 * HTTP status, a row in the store's refusals table and a `packetRefused` metric, and is never executed.
 */
import { AmdpError } from "../../../lib/amdp/errors";
import { CcgpError } from "../../../lib/infra/errors";
import { ContractError } from "../governance/contract";
import type { Logger } from "../../../lib/infra/log";
import type { RelayerMetrics } from "../metrics";
import type { RelayerStore } from "../store";

export const REFUSAL_STATUS: Readonly<Record<string, number>> = {
  BAD_REQUEST: 400,
  MALFORMED_PACKET: 400,
  MALFORMED_SIGNATURE: 400,
  PAYLOAD_MISMATCH: 400,
  SELECTOR_MISMATCH: 400,
  ROUTE_MISMATCH: 400,
  STEPS_INVALID: 400,
  STEPS_NOT_BOUND: 400,
  DEADLINE_PASSED: 400,
  DEADLINE_TOO_FAR: 400,
  OVERSIZED: 413,
  PAYLOAD_TOO_LARGE: 413,
  SIGNER_MISMATCH: 403,
  BAD_APP_SIGNATURE: 403,
  BAD_PROXY_SIGNATURE: 403,
  PIPE_REFUSED: 403,
  WRONG_SERVICE: 403,
  PEER_MISMATCH: 403,
  PEER_NOT_PINNED: 403,
  PIPE_UNKNOWN: 404,
  NOT_FOUND: 404,
  PIPE_NOT_ACTIVE: 409,
  REPLAY: 409,
  DUPLICATE: 409,
  TX_NOT_OPEN: 409,
  TX_NOT_ACTIVE: 409,
  CONTRACT_NOT_REGISTERED: 409,
  CONTRACT_NOT_ATTESTED: 409,
  CONTRACT_CODE_MISMATCH: 409,
  RATE_LIMITED: 429,
  QUEUE_FULL: 429,
  NOT_READY: 503,
};

/** A refused input. `status` is the HTTP answer; `details` are recorded with it. */
export class Refusal extends CcgpError {
  get status(): number {
    return REFUSAL_STATUS[this.code] ?? 400;
  }
}

export interface RefusalContext {
  pipeId?: string;
  signer?: string;
  /** Where it came from: `intake`, `peer`, `chain`. */
  source: string;
  details?: Record<string, unknown>;
}

export class Refusals {
  constructor(
    private readonly _store: RelayerStore,
    private readonly _log: Logger,
    private readonly _metrics?: RelayerMetrics,
  ) {}

  /** Records a refusal and returns it, for the caller to throw. */
  refuse(code: string, message: string, context: RefusalContext, cause?: unknown): Refusal {
    const refusal = new Refusal(code, message, { ...context.details, source: context.source }, { cause });
    this._record(refusal, context);
    return refusal;
  }

  /** Turns a thrown `CcgpError` (AMDP, plan, flow control) into a recorded refusal; other errors are rethrown. */
  from(error: unknown, context: RefusalContext): Refusal {
    if (error instanceof Refusal) return error;
    if (!(error instanceof CcgpError)) throw error;
    return this.refuse(
      error.code,
      error.message,
      { ...context, details: { ...context.details, ...error.details } },
      error,
    );
  }

  private _record(refusal: Refusal, context: RefusalContext): void {
    const details = JSON.parse(
      JSON.stringify({ message: refusal.message, ...refusal.details }, (_k, v: unknown) =>
        typeof v === "bigint" ? v.toString() : v,
      ),
    ) as Record<string, unknown>;
    this._store.recordRefusal({ reason: refusal.code, pipeId: context.pipeId, signer: context.signer, details });
    this._metrics?.record({ type: "packetRefused", reason: refusal.code, pipeId: context.pipeId });
    this._log.warn({ code: refusal.code, pipeId: context.pipeId, source: context.source }, refusal.message);
  }
}

/**
 * Whether an error is the input's fault (a refusal to record and answer 4xx), as opposed to a fault of a node or of
 * the relayer (answered 503: nothing was accepted, the sender may retry).
 */
export function isBadInput(error: unknown): error is CcgpError {
  if (error instanceof AmdpError || error instanceof Refusal) return true;
  if (!(error instanceof CcgpError) || error instanceof ContractError) return false;
  return !error.code.startsWith("CHAIN_") && error.code !== "INTERNAL";
}

/** The 503 answer to a fault that is not the input's. */
export function notReady(error: unknown): Refusal {
  const message = error instanceof Error ? error.message : String(error);
  return new Refusal("NOT_READY", `the request could not be handled now: ${message}`, {}, { cause: error });
}
