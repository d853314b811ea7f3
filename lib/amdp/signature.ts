/**
 * The signature form both sides accept, matching OpenZeppelin `ECDSA.tryRecover`: exactly 65 bytes r||s||v,
 * v in {27, 28}, 0 < s <= secp256k1n/2 (no malleable twin), and recoverable. viem alone accepts high s and
 * v in {0, 1}, so these checks are ours.
 */
import type { Address, Hex } from "viem";
import { recoverHashSigner } from "../crypto/secp256k1";
import { AmdpError, AmdpErrorCode } from "./errors";

/** 1 = application (stage 1), 2 = cross-chain proxy (stage 2). */
export type AmdpStage = 1 | 2;

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
export const SECP256K1_HALF_N = SECP256K1_N / 2n;
const SIGNATURE_RE = /^0x[0-9a-fA-F]{130}$/;

/** Throws MALFORMED_SIGNATURE unless `signature` is a 65-byte, v 27/28, low-s signature. */
export function assertSignatureForm(signature: unknown, stage: AmdpStage): asserts signature is Hex {
  if (typeof signature !== "string" || !SIGNATURE_RE.test(signature))
    throw malformedSignature(stage, "expected 65 bytes of 0x-hex (r || s || v)");
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  if (s > SECP256K1_HALF_N) throw malformedSignature(stage, "s is in the upper half of the curve order (malleable)");
  const v = Number.parseInt(signature.slice(130), 16);
  if (v !== 27 && v !== 28) throw malformedSignature(stage, `v is ${v}, expected 27 or 28`);
}

/** Recovers the signer of `digest`; an unrecoverable (r, s) is a malformed signature, as `ecrecover` == 0 is. */
export async function recoverSigner(digest: Hex, signature: unknown, stage: AmdpStage): Promise<Address> {
  assertSignatureForm(signature, stage);
  try {
    return await recoverHashSigner(digest, signature);
  } catch (err) {
    throw malformedSignature(stage, "the signature cannot be recovered", err);
  }
}

function malformedSignature(stage: AmdpStage, reason: string, cause?: unknown): AmdpError {
  const field = stage === 1 ? "signatures.app" : "signatures.proxy";
  return new AmdpError(
    AmdpErrorCode.MalformedSignature,
    `AMDP ${field} is malformed: ${reason}`,
    { field, stage, reason },
    { cause },
  );
}
