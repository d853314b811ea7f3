/**
 * AMDP benchmarks.
 * - `amdp` (perf): full off-chain `verifySequence` packets per second on one core, against the raw secp256k1
 *   public-key recovery rate measured in the same run (a packet needs two recoveries, so 0.5x is the ceiling), with
 *   the native libsecp256k1 binding the relayer uses and with viem's JavaScript fallback.
 * - `amdp-gas` (gas): on-chain gas of `AMDP.verifySequence` (library alone, and as a whole transaction), packet
 *   hashing and payload checking. Whole-tx figures of large calldata hit the EIP-7623 calldata floor (Prague).
 */
import { ethers } from "hardhat";
import { keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  countersign,
  decodePacket,
  encodePacket,
  packetDigest,
  signPacket,
  verifySequence,
  type SignedPacket,
} from "../lib/amdp";
import { forceSecp256k1Backend, recoverHashSigner } from "../lib/crypto/secp256k1";
import { loadVectors, signedFromVector, vectorDomain } from "../test/helpers/amdp";
import type { BenchModule, Reporter } from "./lib/report";

const ROUND_MS = 500;
const ROUNDS = 4;
const SET_SIZE = 64;

type Op<T> = (input: T) => Promise<unknown> | unknown;

/**
 * Runs `op` over the inputs round-robin for at least ROUND_MS of this process's CPU time; returns operations per
 * CPU-second. CPU time, not wall time, so that other work on a shared machine does not count against us.
 */
async function measure<T>(inputs: T[], op: Op<T>): Promise<number> {
  let n = 0;
  const start = process.cpuUsage();
  let cpuUs = 0;
  while (cpuUs < ROUND_MS * 1000) {
    for (let k = 0; k < 10; k++) await op(inputs[n++ % inputs.length]!);
    const used = process.cpuUsage(start);
    cpuUs = used.user + used.system;
  }
  return n / (cpuUs / 1e6);
}

/**
 * Best-of-ROUNDS rates of several operations, measured in interleaved rounds so that a busy machine slows
 * them alike and the ratios stay meaningful.
 */
async function rates(cases: { inputs: unknown[]; op: Op<unknown> }[]): Promise<number[]> {
  for (const c of cases) for (let i = 0; i < 30; i++) await c.op(c.inputs[i % c.inputs.length]); // warm-up
  const best = cases.map(() => 0);
  for (let r = 0; r < ROUNDS; r++)
    for (const [i, c] of cases.entries()) best[i] = Math.max(best[i]!, await measure(c.inputs, c.op));
  return best;
}

async function perf(report: Reporter): Promise<void> {
  const file = loadVectors();
  const domain = vectorDomain(file);
  const base = signedFromVector(file.vectors[0]!);
  const app = privateKeyToAccount(file.keys[file.vectors[0]!.appKey].privateKey);
  const proxy = privateKeyToAccount(file.keys[file.vectors[0]!.proxyKey].privateKey);
  const signed: SignedPacket[] = [];
  for (let i = 0; i < SET_SIZE; i++) {
    const packet = { ...base.packet, sequence: BigInt(i + 1), txId: keccak256(toHex(`bench:${i}`)) };
    const appSig = await signPacket(app, domain, packet);
    signed.push({
      ...base,
      packet,
      signatures: { app: appSig, proxy: await countersign(proxy, domain, packet, appSig) },
    });
  }
  const digests = signed.map((s) => ({ hash: packetDigest(domain, s.packet), signature: s.signatures.app }));
  const wires = signed.map((s) => encodePacket(s));
  const options = { expectedApp: app.address, expectedProxy: proxy.address, now: 1_700_000_000n };

  const backend =
    (name: "native" | "js", op: Op<unknown>): Op<unknown> =>
    (input) => {
      forceSecp256k1Backend(name);
      return op(input);
    };
  const recover: Op<unknown> = (d) =>
    recoverHashSigner((d as (typeof digests)[number]).hash, (d as (typeof digests)[number]).signature);
  const verify: Op<unknown> = (s) => verifySequence(domain, s as SignedPacket, options);
  const [recoverRate, verifyRate, wireRate, jsRecoverRate, jsVerifyRate] = await rates([
    { inputs: digests, op: backend("native", recover) },
    { inputs: signed, op: backend("native", verify) },
    { inputs: wires, op: backend("native", (w) => verifySequence(domain, decodePacket(w as string), options)) },
    { inputs: digests, op: backend("js", recover) },
    { inputs: signed, op: backend("js", verify) },
  ]);
  forceSecp256k1Backend(undefined);
  if ([recoverRate, verifyRate, wireRate, jsRecoverRate, jsVerifyRate].some((r) => r === undefined))
    throw new Error("no rates");

  report.figure("secp256k1 recovery (native libsecp256k1, the relayer's), one core", recoverRate!, "recoveries/CPU-s");
  report.figure("AMDP verifySequence (2 recoveries + hashing + checks)", verifyRate!, "packets/CPU-s");
  report.figure("AMDP decodePacket + verifySequence from wire JSON", wireRate!, "packets/CPU-s");
  report.figure("verifySequence vs raw recovery (ceiling 0.5)", verifyRate! / recoverRate!, "x");
  report.figure("per-packet cost beyond two recoveries", (1e6 / verifyRate! - 2e6 / recoverRate!).toFixed(1), "us");
  report.figure(
    "secp256k1 recovery (viem / @noble/curves, the fallback), one core",
    jsRecoverRate!,
    "recoveries/CPU-s",
  );
  report.figure("AMDP verifySequence on the fallback", jsVerifyRate!, "packets/CPU-s");
}

async function gas(report: Reporter): Promise<void> {
  const file = loadVectors();
  const harness = await ethers.deployContract("AMDPHarness");
  const v = file.vectors.find((x) => x.name === "write-transfer")!;
  const s = signedFromVector(v);
  const args = [file.domainSeparator, s.packet, v.appSignature, v.proxySignature, v.appSigner, v.proxySigner] as const;
  report.gas("AMDP.verifySequence (library only)", await harness.verifySequenceGas(...args));
  report.gas("AMDP.verifySequence (whole tx)", await harness.verifyWithDomain.estimateGas(...args));
  report.gas("AMDP.hashCalldata (whole tx)", await harness.hashPacketCalldata.estimateGas(s.packet));
  const big = signedFromVector(file.vectors.find((x) => x.name === "large-payload")!);
  report.gas("AMDP.verifyPayload 4 KiB (whole tx)", await harness.verifyPayload.estimateGas(big.packet, big.payload));
}

export const amdpPerf: BenchModule = { name: "amdp", kind: "perf", run: perf };
export const amdpGas: BenchModule = { name: "amdp-gas", kind: "gas", run: gas };
