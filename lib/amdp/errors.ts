import { CcgpError } from "../infra/errors";

/**
 * Why an AMDP packet was refused. `verifySequence` checks in the same order as the on-chain `AMDP.verifySequence`
 * and refuses alike:
 *
 * | code                | on-chain (IAMDP)                              |
 * |---------------------|-----------------------------------------------|
 * | MALFORMED_PACKET    | AmdpInvalidOperation(operation) (other shapes cannot reach the ABI) |
 * | SIGNER_MISMATCH     | AmdpSignerMismatch(declared, expected)        |
 * | DEADLINE_PASSED     | AmdpDeadlinePassed(deadline, now)             |
 * | MALFORMED_SIGNATURE | AmdpMalformedSignature(stage)                 |
 * | BAD_APP_SIGNATURE   | AmdpInvalidAppSignature(recovered, expected)  |
 * | BAD_PROXY_SIGNATURE | AmdpInvalidProxySignature(recovered, expected)|
 * | PAYLOAD_MISMATCH    | AmdpPayloadMismatch(declared, actual) (AMDP.verifyPayload) |
 * | OVERSIZED           | (relayer only)                                |
 */
export const AmdpErrorCode = {
  /** A packet field is missing, has the wrong type or length, or the operation is unknown. */
  MalformedPacket: "MALFORMED_PACKET",
  /** The payload (or the whole wire message) is larger than the configured limit. */
  Oversized: "OVERSIZED",
  /** keccak256(payload) is not the packet's declared payloadHash. */
  PayloadMismatch: "PAYLOAD_MISMATCH",
  /** A signature is missing, not 65 bytes, has v not 27/28, a high s, or cannot be recovered. */
  MalformedSignature: "MALFORMED_SIGNATURE",
  /** The packet's declared signer is not the key reserved on the pipe. */
  SignerMismatch: "SIGNER_MISMATCH",
  /** The stage-1 signature does not recover to the reserved application key. */
  BadAppSignature: "BAD_APP_SIGNATURE",
  /** The stage-2 countersignature does not recover to the expected proxy key. */
  BadProxySignature: "BAD_PROXY_SIGNATURE",
  /** The packet's deadline has passed. */
  DeadlinePassed: "DEADLINE_PASSED",
} as const;
export type AmdpErrorCode = (typeof AmdpErrorCode)[keyof typeof AmdpErrorCode];

export class AmdpError extends CcgpError<AmdpErrorCode> {}
