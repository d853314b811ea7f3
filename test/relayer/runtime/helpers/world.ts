/**
 * The relayer runtime's test world: a local consortium on three anvil chains (`setupLocalConsortium`), relayers
 * started in this process from the configs it wrote (`startRelayer`), and the helpers the tests act with: an app
 * that signs stage 1, a peer that speaks to a relayer's peer endpoint with a chosen certificate, and reads of the
 * ledger, the gateways and the relayers' stores.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import pino from "pino";
import type { Address, Hex, LocalAccount } from "viem";
import {
  countersign,
  encodePacket,
  packetDomain,
  packetTypes,
  signPacket,
  toWire,
  type AmdpDomain,
  type Packet,
  type SignedPacket,
} from "../../../../lib/amdp";
import { loadConfig, type RelayerConfig } from "../../../../relayer/src/config";
import { loadKeystore } from "../../../../relayer/src/keys";
import { createLogger, type LogLevel } from "../../../../lib/infra/log";
import { startRelayer, type RunningRelayer } from "../../../../relayer/src/relayer";
import { PeerClient, loadTlsMaterial, pinSet, type TlsMaterial } from "../../../../relayer/src/server";
import { IDrugTraceability__factory } from "../../../../typechain-types";
import {
  setupLocalConsortium,
  type BusinessSide,
  type LocalConsortium,
  type LocalConsortiumOptions,
  type PipeInfo,
} from "../../../../scripts/lib/local-consortium";
import { keystoreSigner, pipeWrite, recordBatch } from "../../../../scripts/lib/local/scenario";
import { ENUM_NAMES } from "../../../../lib/domain/enums.generated";
import { Council } from "../../../../scripts/lib/local/council";
import { Membership__factory, VotingTickets__factory } from "../../../../typechain-types";
import { contractsOf } from "../../../e2e/helpers/consortium";

export const drug = IDrugTraceability__factory.createInterface();
export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000" as Address;
export const TxState = ENUM_NAMES["ITransactionLedgerTypes.TxState"];

export const randomHex = (bytes = 32): Hex => `0x${randomBytes(bytes).toString("hex")}` as Hex;

export interface World {
  c: LocalConsortium;
  k: ReturnType<typeof contractsOf>;
  domain: AmdpDomain;
  /** The source app's key of each pipe's source side. */
  apps: { a: LocalAccount; b: LocalAccount };
  /** The service signers (business accounts) of each side. */
  proxies: { a: LocalAccount; b: LocalAccount };
  relayers: Partial<Record<"a" | "b", RunningRelayer>>;
  stop(): Promise<void>;
}

export async function world(options: LocalConsortiumOptions = {}): Promise<World> {
  const c = await setupLocalConsortium({ relayerLogLevel: "debug", ...options });
  process.env[c.passwordEnv] = c.password;
  const k = contractsOf(c);
  const open = (path: string) => loadKeystore(path, c.password);
  const w: World = {
    c,
    k,
    domain: packetDomain(c.chains.governance.chainId, c.governance.ledger as Address),
    apps: { a: await open(c.business.a.app.key.keystore), b: await open(c.business.b.app.key.keystore) },
    proxies: {
      a: await open(c.business.a.accounts.business.keystore),
      b: await open(c.business.b.accounts.business.keystore),
    },
    relayers: {},
    stop: async () => {
      await Promise.all(Object.values(w.relayers).map((r) => r?.stop()));
      k.destroy();
      await c.stop();
    },
  };
  return w;
}

/** The relayer config a side's config file holds, with `over` applied to its `runtime` section. */
export function sideConfig(side: BusinessSide, runtime: Partial<RelayerConfig["runtime"]> = {}): RelayerConfig {
  const config = loadConfig({ path: side.configPath });
  return { ...config, runtime: { ...config.runtime, ...runtime } };
}

/** Starts a side's relayer in this process; its JSON log goes to `<runDir>/logs/inproc-<slug>.log`. */
export async function startSide(
  w: World,
  key: "a" | "b",
  runtime: Partial<RelayerConfig["runtime"]> = {},
  level: LogLevel = "debug",
  server: Partial<Pick<RelayerConfig["server"], "port">> = {},
): Promise<RunningRelayer> {
  const side = w.c.business[key];
  const base = sideConfig(side, runtime);
  const config = { ...base, server: { ...base.server, ...server } };
  const destination = pino.destination({ dest: join(w.c.runDir, `inproc-${side.slug}.log`), sync: true, mkdir: true });
  const relayer = await startRelayer(config, {
    logger: createLogger({ level, institutionId: config.institutionId, destination }),
  });
  w.relayers[key] = relayer;
  return relayer;
}

export async function stopSide(w: World, key: "a" | "b"): Promise<void> {
  await w.relayers[key]?.stop();
  delete w.relayers[key];
}

/** A fresh batch recorded on sub-chain A (the precondition of the seed scenario). */
export async function batchOnA(w: World): Promise<{ batchId: Hex; dataHash: Hex }> {
  const batchId = randomHex();
  const dataHash = randomHex();
  await recordBatch(w.c, batchId, dataHash);
  return { batchId, dataHash };
}

/** The next free sequence of a pipe on the ledger. */
export async function nextSequence(w: World, pipe: PipeInfo): Promise<bigint> {
  return (await w.k.ledger.pipeOf(pipe.id)).lastSequence + 1n;
}

export interface PacketInput {
  pipe?: PipeInfo;
  payload?: Hex;
  sequence?: bigint;
  txId?: Hex;
  deadline?: bigint;
  packet?: Partial<Packet>;
}

/** A custody write through pipe A -> B (or `pipe`), with sensible defaults, not signed. */
export async function custodyPacket(
  w: World,
  batchId: Hex,
  input: PacketInput = {},
): Promise<{ packet: Packet; payload: Hex }> {
  const pipe = input.pipe ?? w.c.pipes.aToB;
  const dst = w.c.business[pipe.target];
  const payload =
    input.payload ??
    (drug.encodeFunctionData("continueCustody", [batchId, dst.accounts.operator.address, randomHex()]) as Hex);
  const packet: Packet = {
    ...pipeWrite(w.c, pipe, payload, {
      signer: w.apps[pipe.source].address,
      sequence: input.sequence ?? (await nextSequence(w, pipe)),
      txId: input.txId ?? randomHex(),
      deadline: input.deadline,
    }),
    ...input.packet,
  };
  return { packet, payload };
}

/** Stage 1 by the pipe's source app (or `app`). */
export async function appSigned(w: World, packet: Packet, payload: Hex, app?: LocalAccount): Promise<SignedPacket> {
  const signer = app ?? (packet.pipeId === w.c.pipes.aToB.id ? w.apps.a : w.apps.b);
  return { packet, payload, signatures: { app: await signPacket(signer, w.domain, packet) } };
}

/** Stage 1 signed by any key, whatever the packet declares (to forge what `signPacket` refuses to make). */
export async function forgedAppSigned(packet: Packet, payload: Hex, w: World, by: LocalAccount): Promise<SignedPacket> {
  const app = await by.signTypedData({ domain: w.domain, types: packetTypes, primaryType: "Packet", message: packet });
  return { packet, payload, signatures: { app } };
}

/** Stage 2 by a proxy (A's service signer by default). */
export async function countersigned(w: World, signed: SignedPacket, proxy?: LocalAccount): Promise<SignedPacket> {
  const by = proxy ?? w.proxies.a;
  return {
    ...signed,
    signatures: { ...signed.signatures, proxy: await countersign(by, w.domain, signed.packet, signed.signatures.app) },
  };
}

/** `POST /v1/requests` at a side's intake with a raw body; returns the status and parsed answer. */
export async function post(
  w: World,
  key: "a" | "b",
  body: string | object,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const res = await fetch(`http://127.0.0.1:${w.c.business[key].ports.app}/v1/requests`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: text,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export const wire = (signed: SignedPacket): string => encodePacket(signed, { maxPayloadBytes: 1 << 20 });
export const wireObject = (signed: SignedPacket) => toWire(signed);

/** A peer calling a relayer's peer endpoint with `tls` (A's certificate by default), pinning the relayer's certificate. */
export function peerAs(
  w: World,
  target: "a" | "b",
  tls?: TlsMaterial,
): { call(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> } {
  const from = target === "b" ? w.c.business.a : w.c.business.b;
  const material = tls ?? loadTlsMaterial({ cert: from.tls.cert, key: from.tls.key, ca: from.tls.ca });
  const client = new PeerClient({ tls: material, isPinned: pinSet([w.c.business[target].tls.fingerprint]) });
  const url = `https://127.0.0.1:${w.c.business[target].ports.peer}/v1/packets`;
  return {
    call: async (body) => {
      const res = await client.call(url, { body });
      return { status: res.status, body: (res.body ?? {}) as Record<string, unknown> };
    },
  };
}

/** The ledger state of a transaction, by name. */
export async function stateOf(w: World, txId: Hex): Promise<(typeof TxState)[number]> {
  const [state] = await w.k.ledger.statusOf(txId);
  return TxState[Number(state)]!;
}

/** Polls until the ledger has `txId` in `state`; fails with the last state after `timeoutMs` (a bound, not a timing assertion). */
export async function untilState(
  w: World,
  txId: Hex,
  state: (typeof TxState)[number],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = await stateOf(w, txId);
  while (last !== state) {
    if (Date.now() > deadline) throw new Error(`transaction ${txId} is ${last}, not ${state}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
    last = await stateOf(w, txId);
  }
}

/** Polls `condition` (async) until true; fails naming `what` after `timeoutMs`. */
export async function until(
  condition: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The custody steps of a batch on a side's DrugTraceability. */
export async function custodyLength(w: World, key: "a" | "b", batchId: Hex): Promise<bigint> {
  return w.k[key].drug.custodyLength(batchId);
}

/** The sum of the Prometheus samples of a relayer's `/metrics` whose series starts with `prefix` (0 when none). */
export async function metric(w: World, key: "a" | "b", prefix: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${w.c.business[key].ports.ops}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith(prefix) && !l.startsWith("#"))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

/** A signer of a consortium account on a chain (ethers), from its keystore. */
export const accountOn = (w: World, keystore: string, chain: "governance" | "a" | "b") =>
  keystoreSigner(w.c, keystore, chain);

/** Refusal rows of a running relayer's store. */
export function refusalsOf(w: World, key: "a" | "b", reason?: string) {
  const relayer = w.relayers[key];
  if (relayer === undefined) throw new Error(`relayer ${key} is not running`);
  return relayer.runtime.store.refusals({ reason });
}

/** The genesis governors, voting together (proposals pass as in production: one vote per genesis institution). */
export async function council(w: World): Promise<Council> {
  const governors = await Promise.all(w.c.accounts.governors.map((g) => accountOn(w, g.keystore, "governance")));
  const voting = VotingTickets__factory.connect(w.c.governance.voting, governors[0]);
  const membership = Membership__factory.connect(w.c.governance.membership, governors[0]);
  return new Council(voting, membership, governors);
}
