import { CcgpError } from "../../lib/infra/errors";

/**
 * Why an auditor query, the indexer or the auditor API refused or failed. One base error for the whole auditor
 * side (the relayer's `CcgpError`: a stable code, a short message, details, a cause), so the API can be mounted
 * in the relayer's ops server and answer with the same error body.
 */
export const AuditorErrorCode = {
  /** An artifact (ABI) is missing: the contracts were not compiled. */
  MissingArtifact: "AUDITOR_MISSING_ARTIFACT",
  /** A bad option or query parameter; the message names it. */
  BadInput: "AUDITOR_BAD_INPUT",
  /** The index was built for other contracts or another chain than the ones given now. */
  IndexMismatch: "AUDITOR_INDEX_MISMATCH",
  /** The index holds a newer schema than this code knows. */
  NewerSchema: "AUDITOR_NEWER_SCHEMA",
  /** A block is not above the checkpoint (a duplicate delivery) or a rewind goes below every remembered block. */
  Checkpoint: "AUDITOR_CHECKPOINT",
  /** No such transaction in the index. */
  UnknownTx: "AUDITOR_UNKNOWN_TX",
  /** A chain did not answer, or answered with another chain id. */
  ChainUnreachable: "AUDITOR_CHAIN_UNREACHABLE",
  /** The request carries no valid auditor signature (missing, malformed, stale, replayed, not the claimed key). */
  Unauthenticated: "AUDITOR_UNAUTHENTICATED",
  /** The signer is not an active auditor account of the consortium. */
  Forbidden: "AUDITOR_FORBIDDEN",
  /** The nonce cache is full: too many signed requests inside one time window. */
  Busy: "AUDITOR_BUSY",
} as const;
export type AuditorErrorCode = (typeof AuditorErrorCode)[keyof typeof AuditorErrorCode];

export class AuditorError extends CcgpError<AuditorErrorCode> {}

/** A bad option or parameter, named. */
export const badInput = (message: string, details: Record<string, unknown> = {}): AuditorError =>
  new AuditorError(AuditorErrorCode.BadInput, message, details);
