/**
 * Writes the shared AMDP test vectors (test/vectors/amdp.json), checked byte-for-byte by the TypeScript relayer
 * tests and by the Solidity library tests. Deterministic: fixed Hardhat test keys (public, test-only), chain 31337,
 * a fixed verifying contract and RFC 6979 signatures.
 *
 *   npx ts-node scripts/gen-amdp-vectors.ts           # regenerate
 *   npx ts-node scripts/gen-amdp-vectors.ts --check   # exit 1 if the committed file differs
 */
import { readFileSync, writeFileSync } from "node:fs";
import { encodeAbiParameters, keccak256, toFunctionSelector, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  COUNTERSIGNATURE_TYPE,
  PACKET_TYPE,
  Operation,
  countersign,
  countersignatureDigest,
  countersignatureMessage,
  domainSeparator,
  encodePacket,
  hashCountersignature,
  hashPacket,
  packetDigest,
  packetDomain,
  signPacket,
  toWire,
  type Packet,
  type WirePacket,
} from "../lib/amdp";

export const VECTORS_PATH = "test/vectors/amdp.json";
export const VECTOR_CHAIN_ID = 31337;
export const VECTOR_VERIFYING_CONTRACT: Address = "0xC0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0";

/** Well-known Hardhat default accounts #1..#4 (public test keys, never used outside tests). */
const KEYS = {
  app1: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  proxy1: "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  app2: "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  proxy2: "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
} as const satisfies Record<string, Hex>;
type KeyName = keyof typeof KEYS;

export interface AmdpVector {
  name: string;
  description: string;
  appKey: KeyName;
  proxyKey: KeyName;
  appSigner: Address;
  proxySigner: Address;
  packet: WirePacket;
  payload: Hex;
  packetHash: Hex;
  digest: Hex;
  appSignature: Hex;
  appSignatureHash: Hex;
  countersignatureHash: Hex;
  countersignatureDigest: Hex;
  proxySignature: Hex;
  /** The canonical JSON wire text of the fully signed packet. */
  wire: string;
}

export interface AmdpVectorFile {
  comment: string;
  domain: { name: string; version: string; chainId: number; verifyingContract: Address };
  domainSeparator: Hex;
  packetType: string;
  packetTypehash: Hex;
  countersignatureType: string;
  countersignatureTypehash: Hex;
  keys: Record<KeyName, { privateKey: Hex; address: Address }>;
  vectors: AmdpVector[];
}

interface VectorInput {
  name: string;
  description: string;
  appKey: KeyName;
  proxyKey: KeyName;
  payload: Hex;
  packet: Omit<Packet, "payloadHash" | "signer">;
}

const id = (s: string): Hex => keccak256(toHex(s));
const MAX_UINT32 = 0xffff_ffff;
const MAX_UINT64 = (1n << 64n) - 1n;

/** A deterministic payload of `n` bytes (keccak chain), standing in for large business data. */
function bulkPayload(n: number): Hex {
  let out = "";
  let block = id("ccgp-amdp-vector-payload");
  while (out.length < n * 2) {
    out += block.slice(2);
    block = keccak256(block);
  }
  return `0x${out.slice(0, n * 2)}`;
}

function inputs(): VectorInput[] {
  const recipient = privateKeyToAccount(KEYS.app2).address;
  return [
    {
      name: "write-transfer",
      description: "write: a settlement transfer from institution 1 to 2",
      appKey: "app1",
      proxyKey: "proxy1",
      payload: encodeAbiParameters([{ type: "address" }, { type: "uint256" }], [recipient, 10n ** 21n]),
      packet: {
        pipeId: id("pipe:bank-a->bank-b"),
        sourceInstitution: 1,
        targetInstitution: 2,
        targetService: id("service:bank-b/settlement"),
        contractName: id("SettlementVault"),
        operation: Operation.Write,
        selector: toFunctionSelector("transfer(address,uint256)"),
        txId: id("tx:0001"),
        sequence: 1n,
        deadline: 4_102_444_800n,
      },
    },
    {
      name: "read-balance",
      description: "read: a balance query, deadline 2^32",
      appKey: "app1",
      proxyKey: "proxy1",
      payload: encodeAbiParameters([{ type: "address" }], [recipient]),
      packet: {
        pipeId: id("pipe:bank-a->bank-b"),
        sourceInstitution: 1,
        targetInstitution: 2,
        targetService: id("service:bank-b/ledger-query"),
        contractName: id("AccountBook"),
        operation: Operation.Read,
        selector: toFunctionSelector("balanceOf(address)"),
        txId: id("tx:0002"),
        sequence: 2n,
        deadline: 1n << 32n,
      },
    },
    {
      name: "max-values",
      description:
        "write: every integer at its maximum (uint32 institutions, uint64 sequence and deadline), empty payload",
      appKey: "app2",
      proxyKey: "proxy2",
      payload: "0x",
      packet: {
        pipeId: `0x${"ff".repeat(32)}`,
        sourceInstitution: MAX_UINT32,
        targetInstitution: MAX_UINT32,
        targetService: `0x${"ff".repeat(32)}`,
        contractName: `0x${"ff".repeat(32)}`,
        operation: Operation.Write,
        selector: "0xffffffff",
        txId: `0x${"ff".repeat(32)}`,
        sequence: MAX_UINT64,
        deadline: MAX_UINT64,
      },
    },
    {
      name: "zero-values",
      description: "read: zero ids, institutions, selector and sequence, empty payload, deadline 2^63",
      appKey: "app2",
      proxyKey: "proxy1",
      payload: "0x",
      packet: {
        pipeId: `0x${"00".repeat(32)}`,
        sourceInstitution: 0,
        targetInstitution: 0,
        targetService: `0x${"00".repeat(32)}`,
        contractName: `0x${"00".repeat(32)}`,
        operation: Operation.Read,
        selector: "0x00000000",
        txId: `0x${"00".repeat(32)}`,
        sequence: 0n,
        deadline: 1n << 63n,
      },
    },
    {
      name: "large-payload",
      description: "write: 4 KiB payload, sequence 2^53+1 (beyond JS safe integers), deadline 2^40",
      appKey: "app1",
      proxyKey: "proxy2",
      payload: bulkPayload(4096),
      packet: {
        pipeId: id("pipe:bank-b->bank-c"),
        sourceInstitution: 2,
        targetInstitution: 3_000_000_000,
        targetService: id("service:bank-c/archive"),
        contractName: id("DocumentStore"),
        operation: Operation.Write,
        selector: toFunctionSelector("store(bytes32,bytes)"),
        txId: id("tx:0003"),
        sequence: (1n << 53n) + 1n,
        deadline: 1n << 40n,
      },
    },
  ];
}

async function buildVector(input: VectorInput): Promise<AmdpVector> {
  const domain = packetDomain(VECTOR_CHAIN_ID, VECTOR_VERIFYING_CONTRACT);
  const app = privateKeyToAccount(KEYS[input.appKey]);
  const proxy = privateKeyToAccount(KEYS[input.proxyKey]);
  const packet: Packet = { ...input.packet, payloadHash: keccak256(input.payload), signer: app.address };
  const packetHash = hashPacket(packet);
  const appSignature = await signPacket(app, domain, packet);
  const counter = countersignatureMessage(packetHash, appSignature, proxy.address);
  const proxySignature = await countersign(proxy, domain, packet, appSignature);
  const signed = { packet, payload: input.payload, signatures: { app: appSignature, proxy: proxySignature } };
  return {
    name: input.name,
    description: input.description,
    appKey: input.appKey,
    proxyKey: input.proxyKey,
    appSigner: app.address,
    proxySigner: proxy.address,
    packet: toWire(signed).packet,
    payload: input.payload,
    packetHash,
    digest: packetDigest(domain, packet),
    appSignature,
    appSignatureHash: counter.appSignatureHash,
    countersignatureHash: hashCountersignature(counter),
    countersignatureDigest: countersignatureDigest(domain, counter),
    proxySignature,
    wire: encodePacket(signed),
  };
}

export async function buildVectors(): Promise<AmdpVectorFile> {
  const domain = packetDomain(VECTOR_CHAIN_ID, VECTOR_VERIFYING_CONTRACT);
  const keys = {} as AmdpVectorFile["keys"];
  for (const name of Object.keys(KEYS) as KeyName[])
    keys[name] = { privateKey: KEYS[name], address: privateKeyToAccount(KEYS[name]).address };
  const vectors: AmdpVector[] = [];
  for (const input of inputs()) vectors.push(await buildVector(input));
  return {
    comment: "Generated by scripts/gen-amdp-vectors.ts. Keys are the public Hardhat test accounts: test use only.",
    domain: {
      name: domain.name,
      version: domain.version,
      chainId: VECTOR_CHAIN_ID,
      verifyingContract: domain.verifyingContract,
    },
    domainSeparator: domainSeparator(domain),
    packetType: PACKET_TYPE,
    packetTypehash: id(PACKET_TYPE),
    countersignatureType: COUNTERSIGNATURE_TYPE,
    countersignatureTypehash: id(COUNTERSIGNATURE_TYPE),
    keys,
    vectors,
  };
}

export function serializeVectors(file: AmdpVectorFile): string {
  return JSON.stringify(file, null, 2) + "\n";
}

async function main(): Promise<void> {
  const text = serializeVectors(await buildVectors());
  if (process.argv.includes("--check")) {
    if (readFileSync(VECTORS_PATH, "utf8") !== text) {
      console.error(`${VECTORS_PATH} is stale: run npx ts-node scripts/gen-amdp-vectors.ts`);
      process.exitCode = 1;
    } else console.log(`${VECTORS_PATH} is up to date`);
    return;
  }
  writeFileSync(VECTORS_PATH, text);
  console.log(`wrote ${VECTORS_PATH}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
