/**
 * EIP-712 struct hashes of the two AMDP types by a small encoder. Every field of both is a static ABI type, so
 * `encodeData` is the type hash followed by one 32-byte word a field: padding strings and one keccak. viem's generic
 * `hashStruct` walks the types, hashes the type string and ABI-encodes through its general encoder on every call,
 * several times slower; a relayer hashes a packet and its countersignature a few times for every transaction.
 * Equal to viem's `hashStruct` on every vector (tested), and to the ledger's `PACKET_TYPEHASH` encoding. An address
 * is taken as its 20 bytes: the packet's parse (`parsePacket`) has checked its checksum.
 */
import { concat, hashDomain, keccak256, stringToHex, type Address, type Hex } from "viem";
import { AmdpError, AmdpErrorCode } from "./errors";
import { COUNTERSIGNATURE_TYPE, PACKET_TYPE, type AmdpDomain, type Countersignature, type Packet } from "./types";

const PACKET_TYPEHASH = keccak256(stringToHex(PACKET_TYPE)).slice(2);
const COUNTERSIGNATURE_TYPEHASH = keccak256(stringToHex(COUNTERSIGNATURE_TYPE)).slice(2);

const HEX_RE = /^0x[0-9a-fA-F]*$/;
const MAX_UINT64 = (1n << 64n) - 1n;

/** `value`'s hex digits, lower case, after checking it is 0x-hex of exactly `bytes` bytes. */
function fixed(value: Hex, bytes: number, field: string): string {
  if (typeof value !== "string" || value.length !== 2 + 2 * bytes || !HEX_RE.test(value))
    throw new AmdpError(AmdpErrorCode.MalformedPacket, `AMDP field "${field}" is not ${bytes} bytes of hex`, { field });
  return value.slice(2).toLowerCase();
}

/** An unsigned integer as a left-padded word, after checking it fits `bits`. */
function uint(value: number | bigint, bits: 8 | 32 | 64, field: string): string {
  const n = typeof value === "bigint" ? value : Number.isSafeInteger(value) ? BigInt(value) : -1n;
  if (n < 0n || n > (bits === 64 ? MAX_UINT64 : (1n << BigInt(bits)) - 1n))
    throw new AmdpError(AmdpErrorCode.MalformedPacket, `AMDP field "${field}" is not a uint${bits}`, { field });
  return n.toString(16).padStart(64, "0");
}

const bytes32 = (value: Hex, field: string): string => fixed(value, 32, field);
const address = (value: Address, field: string): string => fixed(value, 20, field).padStart(64, "0");

/** hashStruct(Packet): the packet's identity (what the ledger calls its packet hash). */
export function packetStructHash(p: Packet): Hex {
  return keccak256(
    (`0x${PACKET_TYPEHASH}${bytes32(p.pipeId, "pipeId")}${uint(p.sourceInstitution, 32, "sourceInstitution")}` +
      `${uint(p.targetInstitution, 32, "targetInstitution")}${bytes32(p.targetService, "targetService")}` +
      `${bytes32(p.contractName, "contractName")}${uint(p.operation, 8, "operation")}` +
      `${fixed(p.selector, 4, "selector").padEnd(64, "0")}${bytes32(p.payloadHash, "payloadHash")}` +
      `${bytes32(p.txId, "txId")}${uint(p.sequence, 64, "sequence")}${uint(p.deadline, 64, "deadline")}` +
      `${address(p.signer, "signer")}`) as Hex,
  );
}

/** hashStruct(Countersignature): what the initiator's proxy signs over, under the domain. */
export function countersignatureStructHash(c: Countersignature): Hex {
  return keccak256(
    (`0x${COUNTERSIGNATURE_TYPEHASH}${bytes32(c.packetHash, "packetHash")}` +
      `${bytes32(c.appSignatureHash, "appSignatureHash")}${address(c.signer, "signer")}`) as Hex,
  );
}

const EIP712_DOMAIN_FIELDS = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
] as const;

/** The EIP-712 domain separator (what the ledger's `_domainSeparatorV4()` returns for the same domain). */
export function domainSeparatorOf(domain: AmdpDomain): Hex {
  return hashDomain({ domain, types: { EIP712Domain: EIP712_DOMAIN_FIELDS } });
}

// The separator costs two keccaks over the domain fields; a relayer uses one or two domains, so cache by value.
const separators = new Map<string, Hex>();
const MAX_CACHED_DOMAINS = 64;
function cachedDomainSeparator(domain: AmdpDomain): Hex {
  const key = `${domain.name}|${domain.version}|${domain.chainId}|${domain.verifyingContract.toLowerCase()}`;
  let separator = separators.get(key);
  if (separator === undefined) {
    separator = domainSeparatorOf(domain);
    if (separators.size >= MAX_CACHED_DOMAINS) separators.clear();
    separators.set(key, separator);
  }
  return separator;
}

/** keccak256(0x1901 || domainSeparator || structHash), as OpenZeppelin `MessageHashUtils.toTypedDataHash`. */
export function typedDataDigest(domain: AmdpDomain, structHash: Hex): Hex {
  return keccak256(concat(["0x1901", cachedDomainSeparator(domain), structHash]));
}
