/**
 * Full-sequence check of a signed AMDP packet, in the same order and with the same refusals as the on-chain
 * `AMDP.verifySequence` (operation, declared signer, deadline, stage 1, stage 2), then the payload's integrity.
 * Replay (sequence numbers, duplicates) is checked by the caller against its store and the ledger.
 */
import { isAddressEqual, keccak256, type Address, type Hex } from "viem";
import { parsePacket, payloadSchema, assertPayloadIntegrity, assertPayloadSize, maxPayloadBytes } from "./codec";
import { AmdpError, AmdpErrorCode } from "./errors";
import { countersignatureStructHash, packetStructHash, typedDataDigest } from "./eip712";
import { recoverSigner } from "./signature";

export { typedDataDigest } from "./eip712";
import type { AmdpDomain, Packet, SignedPacket } from "./types";

export interface VerifyOptions {
  /** The application key reserved on the pipe. */
  expectedApp: Address;
  /** Unix time in seconds (default: the local clock). */
  now?: bigint;
  /** Largest payload accepted, in bytes (default 64 KiB). */
  maxPayloadBytes?: number;
}

export interface VerifySequenceOptions extends VerifyOptions {
  /** The initiator's cross-chain proxy (service signing key) for the pipe. */
  expectedProxy: Address;
}

export interface VerifiedStage1 {
  packet: Packet;
  /** EIP-712 struct hash: the packet's identity for replay and duplicate checks. */
  packetHash: Hex;
  digest: Hex;
  appSigner: Address;
}

export interface VerifiedPacket extends VerifiedStage1 {
  countersignatureHash: Hex;
  countersignatureDigest: Hex;
  proxySigner: Address;
}

/** Stage-1 check (application -> its sub-chain proxy): declared signer, deadline, app signature, payload. */
export async function verifyStage1(
  domain: AmdpDomain,
  signed: SignedPacket,
  options: VerifyOptions,
): Promise<VerifiedStage1> {
  const packet = checkPacket(signed, options);
  const result = await checkAppSignature(domain, packet, signed.signatures?.app, options.expectedApp);
  checkPayload(packet, signed.payload, options);
  return result;
}

/** Stage-2 check at the receiver: every signature in the sequence (app, then proxy), deadline and payload. */
export async function verifySequence(
  domain: AmdpDomain,
  signed: SignedPacket,
  options: VerifySequenceOptions,
): Promise<VerifiedPacket> {
  const packet = checkPacket(signed, options);
  const stage1 = await checkAppSignature(domain, packet, signed.signatures?.app, options.expectedApp);
  const appSig = signed.signatures.app;
  const countersignatureHash = countersignatureStructHash({
    packetHash: stage1.packetHash,
    appSignatureHash: keccak256(appSig),
    signer: options.expectedProxy,
  });
  const countersignatureDigest = typedDataDigest(domain, countersignatureHash);
  const proxySigner = await recoverSigner(countersignatureDigest, signed.signatures.proxy, 2);
  if (!isAddressEqual(proxySigner, options.expectedProxy))
    throw new AmdpError(AmdpErrorCode.BadProxySignature, "AMDP proxy countersignature is not the expected proxy's", {
      field: "signatures.proxy",
      stage: 2,
      recovered: proxySigner,
      expected: options.expectedProxy,
    });
  checkPayload(packet, signed.payload, options);
  return { ...stage1, countersignatureHash, countersignatureDigest, proxySigner };
}

function checkPacket(signed: SignedPacket, options: VerifyOptions): Packet {
  const packet = parsePacket(signed?.packet);
  if (!isAddressEqual(packet.signer, options.expectedApp))
    throw new AmdpError(AmdpErrorCode.SignerMismatch, "AMDP packet.signer is not the key reserved on the pipe", {
      field: "packet.signer",
      declared: packet.signer,
      expected: options.expectedApp,
    });
  const now = options.now ?? BigInt(Math.floor(Date.now() / 1000));
  if (now > packet.deadline)
    throw new AmdpError(AmdpErrorCode.DeadlinePassed, "AMDP packet deadline has passed", {
      field: "packet.deadline",
      deadline: packet.deadline,
      now,
    });
  return packet;
}

async function checkAppSignature(
  domain: AmdpDomain,
  packet: Packet,
  appSig: unknown,
  expectedApp: Address,
): Promise<VerifiedStage1> {
  const packetHash = packetStructHash(packet);
  const digest = typedDataDigest(domain, packetHash);
  const appSigner = await recoverSigner(digest, appSig, 1);
  if (!isAddressEqual(appSigner, expectedApp))
    throw new AmdpError(AmdpErrorCode.BadAppSignature, "AMDP app signature is not the reserved key's", {
      field: "signatures.app",
      stage: 1,
      recovered: appSigner,
      expected: expectedApp,
    });
  return { packet, packetHash, digest, appSigner };
}

function checkPayload(packet: Packet, payload: unknown, options: VerifyOptions): void {
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success)
    throw new AmdpError(
      AmdpErrorCode.MalformedPacket,
      `AMDP field "payload" is invalid: ${parsed.error.issues[0]!.message}`,
      { field: "payload" },
    );
  assertPayloadSize(parsed.data, maxPayloadBytes(options));
  assertPayloadIntegrity(packet, parsed.data);
}
