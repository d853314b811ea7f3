/**
 * JSON wire format of a signed AMDP packet:
 * `{ "version": 1, "packet": {...}, "payload": "0x..", "signatures": { "app": "0x..", "proxy"?: "0x.." } }`.
 * uint64 fields travel as decimal strings (JSON numbers lose precision above 2^53), bytes as 0x-hex of exact
 * length, addresses as EIP-55. Decoding refuses anything else with an `AmdpError` naming the field.
 */
import { getAddress, isAddress, keccak256, type Address, type Hex } from "viem";
import { z } from "zod";
import { AmdpError, AmdpErrorCode } from "./errors";
import { AMDP_WIRE_VERSION, type Operation, type Packet, type SignedPacket } from "./types";

export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;
/** Room for the version, the packet fields and two signatures around the payload's hex. */
const WIRE_OVERHEAD_CHARS = 4096;
const MAX_UINT32 = 0xffff_ffff;
const MAX_UINT64 = (1n << 64n) - 1n;
export const SIGNATURE_BYTES = 65;

export interface CodecOptions {
  /** Largest payload accepted, in bytes (default 64 KiB). */
  maxPayloadBytes?: number;
}

/** The JSON shape of a packet on the wire. */
export interface WirePacket {
  pipeId: string;
  sourceInstitution: number;
  targetInstitution: number;
  targetService: string;
  contractName: string;
  operation: number;
  selector: string;
  payloadHash: string;
  txId: string;
  sequence: string;
  deadline: string;
  signer: string;
}

export interface WireSignedPacket {
  version: typeof AMDP_WIRE_VERSION;
  packet: WirePacket;
  payload: string;
  signatures: { app: string; proxy?: string };
}

const hexBytes = (bytes: number) =>
  z
    .string({ error: `expected a 0x-prefixed ${bytes}-byte hex string` })
    .regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `expected a 0x-prefixed ${bytes}-byte hex string`)
    .transform((s) => s.toLowerCase() as Hex);

const uint32 = z
  .number({ error: "expected an integer 0..2^32-1" })
  .int("expected an integer 0..2^32-1")
  .min(0, "expected an integer 0..2^32-1")
  .max(MAX_UINT32, "expected an integer 0..2^32-1");

const uint64 = z
  .string({ error: "expected a decimal uint64 string" })
  // abort: the range check below parses with BigInt, which throws on what the pattern refused.
  .regex(/^(0|[1-9][0-9]{0,19})$/, { message: "expected a decimal uint64 string", abort: true })
  .refine((s) => BigInt(s) <= MAX_UINT64, "expected a decimal uint64 string (at most 2^64-1)")
  .transform((s) => BigInt(s));

const address = z
  .string({ error: "expected a 20-byte hex address" })
  .refine((s) => isAddress(s, { strict: true }), "expected a 20-byte hex address (valid EIP-55 checksum if mixed case)")
  .transform((s) => getAddress(s) as Address);

const operation = z.union([z.literal(0), z.literal(1)], { error: "expected 0 (read) or 1 (write)" });

export const packetSchema = z.strictObject({
  pipeId: hexBytes(32),
  sourceInstitution: uint32,
  targetInstitution: uint32,
  targetService: hexBytes(32),
  contractName: hexBytes(32),
  operation,
  selector: hexBytes(4),
  payloadHash: hexBytes(32),
  txId: hexBytes(32),
  sequence: uint64,
  deadline: uint64,
  signer: address,
}) satisfies z.ZodType<Packet, WirePacket>;

export const payloadSchema = z
  .string({ error: "expected 0x-prefixed hex bytes" })
  .regex(/^0x(?:[0-9a-fA-F]{2})*$/, "expected 0x-prefixed hex bytes")
  .transform((s) => s.toLowerCase() as Hex);

export const signedPacketSchema = z.strictObject({
  version: z.literal(AMDP_WIRE_VERSION, { error: `expected version ${AMDP_WIRE_VERSION}` }),
  packet: packetSchema,
  payload: payloadSchema,
  signatures: z.strictObject({
    app: hexBytes(SIGNATURE_BYTES),
    proxy: hexBytes(SIGNATURE_BYTES).optional(),
  }),
});

/** Serialises a signed packet to its canonical JSON wire text, refusing what `decodePacket` would refuse. */
export function encodePacket(signed: SignedPacket, options: CodecOptions = {}): string {
  const checked = parseSignedPacket(toWire(signed), options);
  return JSON.stringify(toWire(checked));
}

/** Parses and checks wire text: shape, exact hex lengths, size limit and payload integrity. */
export function decodePacket(text: string, options: CodecOptions = {}): SignedPacket {
  const max = maxPayloadBytes(options);
  if (typeof text !== "string") throw malformed("(wire)", "expected the packet's JSON text");
  if (text.length > max * 2 + WIRE_OVERHEAD_CHARS)
    throw new AmdpError(AmdpErrorCode.Oversized, `AMDP wire message of ${text.length} characters is too large`, {
      field: "(wire)",
      chars: text.length,
      maxPayloadBytes: max,
    });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AmdpError(
      AmdpErrorCode.MalformedPacket,
      "AMDP wire message is not valid JSON",
      { field: "(wire)" },
      { cause: err },
    );
  }
  return parseSignedPacket(value, options);
}

/** Checks an already-parsed JSON value (e.g. an HTTP body) like `decodePacket`. */
export function parseSignedPacket(value: unknown, options: CodecOptions = {}): SignedPacket {
  const result = signedPacketSchema.safeParse(value);
  if (!result.success) throw fromIssue(result.error.issues[0]!);
  const { packet, payload, signatures } = result.data;
  assertPayloadSize(payload, maxPayloadBytes(options));
  assertPayloadIntegrity(packet, payload);
  const sigs: SignedPacket["signatures"] = { app: signatures.app };
  if (signatures.proxy !== undefined) sigs.proxy = signatures.proxy;
  return { packet: packet as Packet, payload, signatures: sigs };
}

/** Validates an in-memory packet (field types and lengths), returning it normalised; used before hashing. */
export function parsePacket(packet: Packet, field = "packet"): Packet {
  const result = packetSchema.safeParse(packetToWire(packet));
  if (!result.success) throw fromIssue(result.error.issues[0]!, [field]);
  return result.data as Packet;
}

/** Refuses a payload whose keccak256 is not the packet's payloadHash. */
export function assertPayloadIntegrity(packet: Packet, payload: Hex): void {
  const actual = keccak256(payload);
  if (actual !== packet.payloadHash.toLowerCase())
    throw new AmdpError(AmdpErrorCode.PayloadMismatch, "AMDP payload does not match packet.payloadHash", {
      field: "payload",
      declared: packet.payloadHash,
      actual,
    });
}

export function assertPayloadSize(payload: Hex, maxBytes: number): void {
  const bytes = (payload.length - 2) / 2;
  if (bytes > maxBytes)
    throw new AmdpError(AmdpErrorCode.Oversized, `AMDP payload of ${bytes} bytes exceeds ${maxBytes}`, {
      field: "payload",
      bytes,
      maxPayloadBytes: maxBytes,
    });
}

export function maxPayloadBytes(options: CodecOptions): number {
  const max = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (!Number.isSafeInteger(max) || max < 0)
    throw new AmdpError(AmdpErrorCode.MalformedPacket, "maxPayloadBytes must be a non-negative integer", {
      field: "maxPayloadBytes",
      value: max,
    });
  return max;
}

/** In-memory packet -> wire JSON shape. Leaves wrong types in place so the schema names them. */
export function toWire(signed: SignedPacket): WireSignedPacket {
  const signatures: WireSignedPacket["signatures"] = { app: signed.signatures?.app };
  if (signed.signatures?.proxy !== undefined) signatures.proxy = signed.signatures.proxy;
  return { version: AMDP_WIRE_VERSION, packet: packetToWire(signed.packet), payload: signed.payload, signatures };
}

function packetToWire(p: Packet): WirePacket {
  if (typeof p !== "object" || p === null) return p;
  const dec = (v: unknown) => (typeof v === "bigint" ? v.toString() : v) as string;
  return {
    pipeId: p.pipeId,
    sourceInstitution: p.sourceInstitution,
    targetInstitution: p.targetInstitution,
    targetService: p.targetService,
    contractName: p.contractName,
    operation: p.operation as Operation,
    selector: p.selector,
    payloadHash: p.payloadHash,
    txId: p.txId,
    sequence: dec(p.sequence),
    deadline: dec(p.deadline),
    signer: p.signer,
  };
}

function fromIssue(issue: z.core.$ZodIssue, prefix: PropertyKey[] = []): AmdpError {
  const path = [...prefix, ...issue.path];
  if (issue.code === "unrecognized_keys") path.push(issue.keys[0]!);
  const field = path.length > 0 ? path.map(String).join(".") : "(root)";
  const message = issue.code === "unrecognized_keys" ? "unknown field" : issue.message;
  const code = path[0] === "signatures" ? AmdpErrorCode.MalformedSignature : AmdpErrorCode.MalformedPacket;
  return new AmdpError(code, `AMDP field "${field}" is invalid: ${message}`, { field, issue: issue.code });
}

function malformed(field: string, message: string): AmdpError {
  return new AmdpError(AmdpErrorCode.MalformedPacket, `AMDP field "${field}" is invalid: ${message}`, { field });
}
