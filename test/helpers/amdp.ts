/** Shared helpers for the AMDP tests: the committed vectors, byte flips, malleated signatures. */
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { getAddress, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import {
  AmdpError,
  SECP256K1_HALF_N,
  packetDomain,
  parseSignedPacket,
  type AmdpDomain,
  type AmdpErrorCode,
  type Packet,
  type SignedPacket,
} from "../../lib/amdp";
import { VECTORS_PATH, type AmdpVector, type AmdpVectorFile } from "../../scripts/gen-amdp-vectors";

export const SECP256K1_N = SECP256K1_HALF_N * 2n + 1n;

export function loadVectors(): AmdpVectorFile {
  return JSON.parse(readFileSync(VECTORS_PATH, "utf8")) as AmdpVectorFile;
}

export function vectorDomain(file: AmdpVectorFile): AmdpDomain {
  return packetDomain(file.domain.chainId, file.domain.verifyingContract);
}

export function vectorAccounts(
  file: AmdpVectorFile,
  v: AmdpVector,
): { app: PrivateKeyAccount; proxy: PrivateKeyAccount } {
  return {
    app: privateKeyToAccount(file.keys[v.appKey].privateKey),
    proxy: privateKeyToAccount(file.keys[v.proxyKey].privateKey),
  };
}

/** The vector as an in-memory signed packet (through the codec, so the wire form is checked too). */
export function signedFromVector(v: AmdpVector): SignedPacket {
  return parseSignedPacket({
    version: 1,
    packet: v.packet,
    payload: v.payload,
    signatures: { app: v.appSignature, proxy: v.proxySignature },
  });
}

/** XORs byte `index` of a hex string with `mask` (default 0x01: one bit). */
export function flipByte(hex: Hex, index: number, mask = 0x01): Hex {
  const at = 2 + index * 2;
  const byte = (Number.parseInt(hex.slice(at, at + 2), 16) ^ mask).toString(16).padStart(2, "0");
  return `${hex.slice(0, at)}${byte}${hex.slice(at + 2)}` as Hex;
}

/** The malleable twin of a low-s signature: (r, n - s, v ^ 1). Recovers to the same key under raw ecrecover. */
export function malleate(sig: Hex): Hex {
  const s = BigInt(`0x${sig.slice(66, 130)}`);
  const v = Number.parseInt(sig.slice(130), 16);
  const highS = (SECP256K1_N - s).toString(16).padStart(64, "0");
  return `${sig.slice(0, 66)}${highS}${(v === 27 ? 28 : 27).toString(16)}` as Hex;
}

/** One changed value per packet field, each a single flipped bit. */
export function flipField(packet: Packet, field: keyof Packet): Packet {
  const value = packet[field];
  let flipped: Packet[keyof Packet];
  if (typeof value === "bigint") flipped = value ^ 1n;
  else if (typeof value === "number") flipped = (value ^ 1) >>> 0;
  else if (field === "signer") flipped = getAddress(flipByte(value.toLowerCase() as Hex, 19));
  else flipped = flipByte(value, 0);
  return { ...packet, [field]: flipped } as Packet;
}

export const PACKET_FIELDS: (keyof Packet)[] = [
  "pipeId",
  "sourceInstitution",
  "targetInstitution",
  "targetService",
  "contractName",
  "operation",
  "selector",
  "payloadHash",
  "txId",
  "sequence",
  "deadline",
  "signer",
];

/** Awaits `action` and expects an `AmdpError` with `code`; returns it for further checks. */
export async function expectAmdpError(action: () => unknown, code: AmdpErrorCode): Promise<AmdpError> {
  let caught: unknown;
  try {
    await action();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected AmdpError ${code}`).to.be.instanceOf(AmdpError);
  const err = caught as AmdpError;
  expect(err.code, err.message).to.equal(code);
  return err;
}
