/**
 * The chaos run: a real local consortium (three anvil nodes, the deployed contracts, two relayer processes), N
 * cross-chain transactions in both initiation modes (custody writes that confirm, writes that fail on B and
 * compensate A's source step, requests that expire), and seeded faults meanwhile: relayer SIGKILLs and restarts, a
 * sub-chain node stopped and started again with its state kept, a reorg, and TCP faults through fault proxies
 * (A's link to B's peer endpoint, B's link to its node: delay, drop, reset, cut). Then a fuzzer of AMDP requests and
 * an overload burst. At the end the ledger is checked against both sub-chains.
 */
import { readFileSync } from "node:fs";
import { Contract, JsonRpcProvider, Wallet, ZeroAddress, hexlify, id, randomBytes, type Signer } from "ethers";
import { encodePacket, toWire, type SignedPacket } from "../lib/amdp";
import { boundTxId, planOf } from "../relayer/src/tx/plan";
import { setupLocalConsortium, type LocalConsortium, type SideKey } from "../scripts/lib/local-consortium";
import { freePort, startAnvil, type LocalChain } from "../scripts/lib/anvil";
import { spawnRelayer, type RelayerProcess } from "../scripts/lib/local/relayers";
import { appAccount, nextSequence, recordBatch, signCustodyRequest, TX_STATES } from "../scripts/lib/local/scenario";
import { DrugTraceability__factory, SubchainGateway__factory, TransactionLedger__factory } from "../typechain-types";
import { fuzz, type FuzzResult } from "./fuzz";
import { FaultProxy } from "./proxy";
import { Rng } from "./rng";

export interface ChaosOptions {
  transactions: number;
  seed: number;
  fuzzRequests: number;
  /** Relayer kills at least (default: 20 per 1,000 transactions, at least 3). */
  minKills?: number;
  log?: (line: string) => void;
  runDir?: string;
}

type Kind = "success" | "compensate" | "expire" | "chain";
interface Tracked {
  txId: string;
  kind: Kind;
  acceptedAt: number;
  state: string;
}

export interface ChaosReport {
  seed: number;
  transactions: number;
  durationSeconds: number;
  faults: Record<string, number>;
  recoveries: number;
  recoverMs: { p50: number; p99: number; samples: number };
  states: Record<string, number>;
  lost: number;
  duplicated: { executions: number; results: number; endorsements: number; doneAndCompensated: number };
  notFinal: string[];
  manual: number;
  fuzz: FuzzResult;
  overload: {
    sent: number;
    accepted: number;
    refused429: number;
    withRetryAfter: number;
    otherRefusals: Record<string, number>;
    ratePerSecond: number;
    limitPerSecond: number;
  };
  unexpectedExits: string[];
  rssMiB: { a: number; b: number };
  timeline: Array<{ t: number; counts: Record<string, number> }>;
  passed: boolean;
  failures: string[];
}

const FINAL = new Set(["Confirmed", "Compensated", "Expired", "Failed", "Resolved"]);
const RELAYER_RATE = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (xs: number[], p: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

interface Postable {
  status: number;
  retryAfter: number;
  code: string;
}

async function post(url: string, body: string): Promise<Postable> {
  try {
    const res = await fetch(`${url}/v1/requests`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    const json = (await res.json().catch(() => ({}))) as { code?: string };
    return { status: res.status, retryAfter: Number(res.headers.get("retry-after") ?? 0), code: json.code ?? "" };
  } catch {
    return { status: 0, retryAfter: 0, code: "TRANSPORT" };
  }
}

/** The running pieces, and what the faults do to them. */
class Cluster {
  relayers: Partial<Record<SideKey, RelayerProcess>> = {};
  chainB: LocalChain | null = null;
  readonly killedByUs = new Set<number>();
  readonly unexpected: string[] = [];
  readonly recoverMs: number[] = [];
  readonly rss = { a: 0, b: 0 };

  constructor(
    readonly c: LocalConsortium,
    readonly peerProxy: FaultProxy,
    readonly nodeProxy: FaultProxy,
    readonly bPeerPort: number,
  ) {}

  start(key: SideKey): RelayerProcess {
    const env: NodeJS.ProcessEnv =
      key === "b"
        ? {
            CCGP_SERVER_PORT: String(this.bPeerPort),
            CCGP_CHAIN_SUB_B_RPC: `http://127.0.0.1:${this.nodeProxy.listenPort}`,
          }
        : {};
    const proc = spawnRelayer(this.c, this.c.business[key], env);
    this.relayers[key] = proc;
    void proc.exited.then((code) => {
      if (!this.killedByUs.has(proc.pid) && code !== 0)
        this.unexpected.push(`relayer ${key} (pid ${proc.pid}) exited ${code}`);
    });
    return proc;
  }

  async healthy(key: SideKey, timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const proc = this.relayers[key]!;
      try {
        if ((await fetch(proc.healthUrl, { signal: AbortSignal.timeout(2_000) })).status === 200) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline)
        throw new Error(`relayer ${key} not healthy after ${timeoutMs} ms; see ${proc.logFile}`);
      await sleep(200);
    }
  }

  async kill(key: SideKey, downMs: number): Promise<void> {
    const proc = this.relayers[key]!;
    this.killedByUs.add(proc.pid);
    process.kill(proc.pid, "SIGKILL");
    await proc.exited;
    await sleep(downMs);
    const started = Date.now();
    this.start(key);
    // Recovered: the intake (A) or the peer endpoint's process (B) serves again; its health needs peers' heartbeats.
    await this.healthy(key);
    this.recoverMs.push(Date.now() - started);
  }

  /** Stops B's sub-chain node (SIGTERM: anvil writes its state) and starts it again on the same port with it. */
  async restartNodeB(downMs: number): Promise<void> {
    const current = this.chainB;
    if (current) await current.stop();
    else await this.c.chains.b.stop();
    await sleep(downMs);
    this.chainB = await startAnvil(this.c.chains.b.options);
  }

  sampleRss(): void {
    for (const key of ["a", "b"] as const) {
      const pid = this.relayers[key]?.pid;
      if (pid === undefined) continue;
      try {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
        this.rss[key] = Math.max(this.rss[key], kb / 1024);
      } catch {
        // exited between the look and the read
      }
    }
  }

  async stop(): Promise<void> {
    for (const proc of Object.values(this.relayers)) {
      if (proc === undefined) continue;
      this.killedByUs.add(proc.pid);
      await proc.stop(5_000);
    }
    await Promise.all([this.peerProxy.stop(), this.nodeProxy.stop()]);
    await this.chainB?.stop();
    await this.c.stop();
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const rng = new Rng(options.seed);
  const started = Date.now();
  const c = await setupLocalConsortium({
    persistChains: true,
    relayerRatePerSecond: RELAYER_RATE,
    relayerLogLevel: "info",
    auditorApi: false,
    runDir: options.runDir,
    log: () => undefined,
  });
  process.env[c.passwordEnv] = c.password;
  const bPeerPort = await freePort();
  const peerProxy = new FaultProxy(c.business.b.ports.peer, bPeerPort);
  const nodeProxy = new FaultProxy(await freePort(), c.chains.b.port);
  await Promise.all([peerProxy.start(), nodeProxy.start()]);
  const cluster = new Cluster(c, peerProxy, nodeProxy, bPeerPort);
  const faults: Record<string, number> = {};
  const count = (kind: string) => (faults[kind] = (faults[kind] ?? 0) + 1);
  try {
    cluster.start("a");
    cluster.start("b");
    await Promise.all([cluster.healthy("a"), cluster.healthy("b")]);
    log(`consortium up in ${c.runDir}; relayers healthy`);
    const drive = new Driver(c, rng, log);
    await drive.prepare();
    const minKills = options.minKills ?? Math.max(3, Math.ceil((options.transactions * 20) / 1000));
    let driving = true;
    const timeline: ChaosReport["timeline"] = [];
    const sampler = (async () => {
      while (driving || !drive.allFinal()) {
        cluster.sampleRss();
        timeline.push({ t: Math.round((Date.now() - started) / 1000), counts: drive.counts() });
        await drive.refresh();
        await sleep(2_000);
        if (Date.now() - started > 3_600_000) break;
      }
    })();
    const chaos = (async () => {
      let kills = 0;
      let nodeRestarts = 0;
      let reorgs = 0;
      let cuts = 0;
      while (driving || kills < minKills) {
        await sleep(rng.int(500, 3_000));
        const roll = rng.next();
        if (roll < 0.55 || (!driving && kills < minKills)) {
          const key = rng.pick(["a", "b"] as const);
          count(`kill relayer ${key}`);
          kills += 1;
          await cluster.kill(key, rng.int(500, 3_000));
        } else if (roll < 0.65 && nodeRestarts < 1 + Math.floor(options.transactions / 500)) {
          count("node restart (sub-chain B, state kept)");
          nodeRestarts += 1;
          await cluster.restartNodeB(rng.int(500, 2_000));
        } else if (roll < 0.72 && reorgs < 1 + Math.floor(options.transactions / 500)) {
          count("reorg (sub-chain A, depth 1, inside the confirmation depth)");
          reorgs += 1;
          await drive.reorgA(1);
        } else if (roll < 0.8 && cuts < 1 + Math.floor(options.transactions / 250)) {
          count("cut A -> B peer link past short deadlines (expiries)");
          cuts += 1;
          peerProxy.set("cut");
          await drive.expiring(2);
          await sleep(12_000);
          peerProxy.set("pass");
        } else if (roll < 0.9) {
          const mode = rng.pick(["delay", "drop"] as const);
          count(`${mode} ${rng.next() < 0.5 ? "A -> B peer link" : "B -> node link"}`);
          const proxy = rng.next() < 0.5 ? peerProxy : nodeProxy;
          proxy.set(mode, 200);
          await sleep(rng.int(1_000, 3_000));
          proxy.set("pass");
          proxy.reset();
        } else {
          count("reset connections (both links)");
          peerProxy.reset();
          nodeProxy.reset();
        }
      }
    })();
    await drive.run(options.transactions);
    driving = false;
    log(`driven: ${drive.tracked.size} accepted; waiting for the faults to end`);
    await chaos;
    peerProxy.set("pass");
    nodeProxy.set("pass");
    await Promise.all([cluster.healthy("a"), cluster.healthy("b")]);
    log("faults over; overload burst");
    const overload = await drive.overload(RELAYER_RATE * 10, 3);
    log(`overload: ${JSON.stringify(overload)}; fuzzing ${options.fuzzRequests} requests`);
    const fuzzResult = await drive.fuzz(options.fuzzRequests, cluster);
    log(
      `fuzz: ${fuzzResult.refused}/${fuzzResult.sent} refused with a named error; waiting for every transaction to be final`,
    );
    const settleBy = Date.now() + Math.max(5 * 60_000, options.transactions * 600);
    while (!drive.allFinal() && Date.now() < settleBy) {
      await sleep(5_000);
      log(`settling: ${JSON.stringify(drive.counts())}`);
    }
    await sampler;
    cluster.sampleRss();
    const checks = await drive.check();
    const states = drive.counts();
    const failures: string[] = [];
    if (checks.lost > 0) failures.push(`${checks.lost} accepted transaction(s) not on the ledger`);
    const dup = checks.duplicated;
    if (dup.executions + dup.results + dup.endorsements + dup.doneAndCompensated > 0)
      failures.push(`duplicates: ${JSON.stringify(dup)}`);
    if (checks.notFinal.length > 0)
      failures.push(`${checks.notFinal.length} transaction(s) not final: ${checks.notFinal.slice(0, 5).join(", ")}`);
    if ((states.Manual ?? 0) > 0) failures.push(`${states.Manual} transaction(s) in Manual`);
    if (fuzzResult.notRefused > 0)
      failures.push(`${fuzzResult.notRefused} fuzzed request(s) not refused with a named error`);
    if (cluster.unexpected.length > 0) failures.push(`unexpected exits: ${cluster.unexpected.join("; ")}`);
    if (overload.accepted > 0 && overload.refused429 === 0) failures.push("overload was never answered 429");
    if (overload.refused429 !== overload.withRetryAfter) failures.push("a 429 without Retry-After");
    if (Math.max(cluster.rss.a, cluster.rss.b) > 1024)
      failures.push(`relayer RSS above 1 GiB: ${JSON.stringify(cluster.rss)}`);
    return {
      seed: options.seed,
      transactions: drive.tracked.size,
      durationSeconds: Math.round((Date.now() - started) / 1000),
      faults,
      recoveries: cluster.recoverMs.length,
      recoverMs: {
        p50: percentile(cluster.recoverMs, 50),
        p99: percentile(cluster.recoverMs, 99),
        samples: cluster.recoverMs.length,
      },
      states,
      lost: checks.lost,
      duplicated: dup,
      notFinal: checks.notFinal,
      manual: states.Manual ?? 0,
      fuzz: fuzzResult,
      overload,
      unexpectedExits: cluster.unexpected,
      rssMiB: { a: Math.round(cluster.rss.a), b: Math.round(cluster.rss.b) },
      timeline,
      passed: failures.length === 0,
      failures,
    };
  } finally {
    await cluster.stop();
  }
}

/** Drives transactions, tracks them to a final state, and checks the ledger against the sub-chains. */
class Driver {
  readonly tracked = new Map<string, Tracked>();
  private readonly gov: JsonRpcProvider;
  private readonly subA: JsonRpcProvider;
  private readonly subB: JsonRpcProvider;
  private readonly ledger: Contract;
  private sequence = 0n;
  private batch = { batchId: "", dataHash: "" };
  private app!: Awaited<ReturnType<typeof appAccount>>;
  private operatorA!: Signer;
  private readonly intake: string;

  constructor(
    private readonly c: LocalConsortium,
    private readonly rng: Rng,
    private readonly log: (line: string) => void,
  ) {
    const p = (url: string) => new JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    this.gov = p(c.chains.governance.url);
    this.subA = p(c.chains.a.url);
    this.subB = p(c.chains.b.url);
    this.ledger = TransactionLedger__factory.connect(c.governance.ledger, this.gov) as unknown as Contract;
    this.intake = `http://127.0.0.1:${c.business.a.ports.app}`;
  }

  async prepare(): Promise<void> {
    this.app = await appAccount(this.c, this.c.pipes.aToB);
    const wallet = Wallet.fromEncryptedJsonSync(
      readFileSync(this.c.business.a.accounts.operator.keystore, "utf8"),
      this.c.password,
    );
    this.operatorA = wallet.connect(this.subA);
    this.batch = { batchId: id(`chaos:${hexlify(randomBytes(8))}`), dataHash: id("chaos-data") };
    await recordBatch(this.c, this.batch.batchId, this.batch.dataHash);
    this.sequence = await nextSequence(this.c, this.c.pipes.aToB);
  }

  private async signed(kind: Kind, ttlSeconds = 600): Promise<{ body: string; txId: string }> {
    const pipe = this.c.pipes.aToB;
    const custodian = kind === "compensate" ? ZeroAddress : this.c.business.b.accounts.operator.address;
    const s = await signCustodyRequest(this.c, this.app, {
      pipe,
      batchId: this.batch.batchId,
      custodian,
      dataHash: this.batch.dataHash,
      sequence: this.sequence++,
      ttlSeconds,
    });
    if (kind !== "compensate") return { body: encodePacket(s), txId: s.packet.txId };
    // A source step on A (a custody write there) that must be undone when B's write reverts.
    const drug = DrugTraceability__factory.createInterface();
    const data = drug.encodeFunctionData("continueCustody", [
      this.batch.batchId,
      this.c.business.a.accounts.operator.address,
      this.batch.dataHash,
    ]);
    const steps = [
      { side: "source", operation: "write", contract: this.c.business.a.contracts.names.drugTraceability, data },
      { side: "target" },
    ];
    const salt = hexlify(randomBytes(32));
    const packet = { ...s.packet, txId: boundTxId(salt as `0x${string}`, planOf(s.packet, s.payload, steps).steps) };
    const again: SignedPacket = await signCustodyRequest(this.c, this.app, {
      pipe,
      batchId: this.batch.batchId,
      custodian,
      dataHash: this.batch.dataHash,
      sequence: packet.sequence,
      ttlSeconds,
      txId: packet.txId,
    });
    return { body: JSON.stringify({ ...toWire(again), steps, salt }), txId: packet.txId };
  }

  /** Posts one app request until it is accepted (202, or 409 DUPLICATE: accepted before), re-sending it as it is. */
  private async submit(kind: Kind, ttlSeconds?: number): Promise<void> {
    let { body, txId } = await this.signed(kind, ttlSeconds);
    for (let attempt = 0; attempt < 600; attempt++) {
      const answer = await post(this.intake, body);
      if (answer.status === 202 || answer.code === "DUPLICATE") {
        this.tracked.set(txId, { txId, kind, acceptedAt: Date.now(), state: "None" });
        return;
      }
      if (answer.code === "REPLAY") {
        // A chain-initiated request took the sequence: a fresh packet (never accepted) with the next free one.
        this.sequence = (await nextSequence(this.c, this.c.pipes.aToB)) + 1n;
        ({ body, txId } = await this.signed(kind, ttlSeconds));
        continue;
      }
      if (answer.status !== 0 && answer.status !== 429 && answer.status < 500)
        throw new Error(`request refused: ${answer.status} ${answer.code}`);
      await sleep(answer.retryAfter > 0 ? answer.retryAfter * 1000 : 500);
    }
    throw new Error(`request ${txId} never accepted`);
  }

  /** A custody transfer requested by the business contract on A (chain-initiated). */
  private async chainRequest(): Promise<void> {
    const drug = DrugTraceability__factory.connect(this.c.business.a.contracts.drugTraceability, this.operatorA);
    for (let attempt = 0; attempt < 30; attempt++) {
      try {
        const tx = await drug.requestCustodyTransfer(
          this.c.pipes.aToB.id,
          this.c.pipes.aToB.contractNameHash,
          this.batch.batchId,
          this.c.business.b.accounts.operator.address,
          this.batch.dataHash,
        );
        const receipt = await tx.wait();
        const parsed = receipt!.logs
          .map((l) => drug.interface.parseLog(l))
          .find((p) => p?.name === "CustodyTransferRequested");
        const txId = parsed!.args.requestId as string;
        this.tracked.set(txId, { txId, kind: "chain", acceptedAt: Date.now(), state: "None" });
        return;
      } catch (error) {
        this.log(`chain request failed (${(error as Error).message.slice(0, 80)}); again`);
        await sleep(1_000);
      }
    }
  }

  async run(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const roll = this.rng.next();
      if (roll < 0.2) await this.chainRequest();
      else await this.submit(roll < 0.3 ? "compensate" : "success");
      if ((i + 1) % 50 === 0) this.log(`${i + 1}/${n} submitted; ${JSON.stringify(this.counts())}`);
    }
  }

  /** Requests with a short deadline, sent while the peer link is cut: they must expire with nothing to undo. */
  async expiring(k: number): Promise<void> {
    for (let i = 0; i < k; i++) await this.submit("expire", 6);
  }

  async reorgA(depth: number): Promise<void> {
    await this.subA.send("anvil_reorg", [depth, []]);
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of this.tracked.values()) out[t.state] = (out[t.state] ?? 0) + 1;
    return out;
  }

  allFinal(): boolean {
    return [...this.tracked.values()].every((t) => FINAL.has(t.state) || t.state === "Manual");
  }

  async refresh(): Promise<void> {
    const open = [...this.tracked.values()].filter((t) => !FINAL.has(t.state) && t.state !== "Manual");
    for (let i = 0; i < open.length; i += 50)
      await Promise.all(
        open.slice(i, i + 50).map(async (t) => {
          try {
            const [state] = (await this.ledger.statusOf(t.txId)) as [bigint];
            t.state = TX_STATES[Number(state)] ?? String(state);
          } catch {
            // the governance node is busy: next round
          }
        }),
      );
  }

  /** `ratePerSecond` requests a second for `seconds`, pre-signed with ascending sequences and sent without waiting. */
  async overload(ratePerSecond: number, seconds: number): Promise<ChaosReport["overload"]> {
    const out = {
      sent: 0,
      accepted: 0,
      refused429: 0,
      withRetryAfter: 0,
      otherRefusals: {} as Record<string, number>,
      ratePerSecond: 0,
      limitPerSecond: RELAYER_RATE,
    };
    const signed = [];
    for (let i = 0; i < ratePerSecond * seconds; i++) signed.push(await this.signed("success"));
    const t0 = Date.now();
    const answers = signed.map(async ({ body, txId }, i) => {
      await sleep(t0 + (i * 1000) / ratePerSecond - Date.now());
      out.sent += 1;
      const answer = await post(this.intake, body);
      if (answer.status === 202) {
        out.accepted += 1;
        this.tracked.set(txId, { txId, kind: "success", acceptedAt: Date.now(), state: "None" });
      } else if (answer.status === 429) {
        out.refused429 += 1;
        if (answer.retryAfter > 0) out.withRetryAfter += 1;
      } else
        out.otherRefusals[answer.code || String(answer.status)] =
          (out.otherRefusals[answer.code || String(answer.status)] ?? 0) + 1;
    });
    await Promise.all(answers);
    out.ratePerSecond = Math.round((out.sent / Math.max(1, (Date.now() - t0) / 1000)) * 10) / 10;
    // Refused ones leave gaps in the pipe's sequences: the ledger takes any higher one.
    return out;
  }

  async fuzz(n: number, cluster: Cluster): Promise<FuzzResult> {
    const accepted = [...this.tracked.values()].find((t) => t.kind === "success" && t.state === "Confirmed");
    if (accepted === undefined) throw new Error("no confirmed transaction to fuzz from");
    const intakeBase = await this.baseOf(accepted.txId, "a");
    const peerBase = await this.baseOf(accepted.txId, "b");
    const result = await fuzz(
      { name: "intake", url: `${this.intake}/v1/requests`, base: intakeBase },
      Math.ceil(n / 2),
      this.rng,
    );
    const a = this.c.business.a.tls;
    return fuzz(
      {
        name: "peer",
        url: `https://127.0.0.1:${cluster.c.business.b.ports.peer}/v1/packets`,
        base: peerBase,
        tls: { cert: a.cert, key: a.key, ca: a.ca },
      },
      Math.floor(n / 2),
      this.rng,
      8,
      result,
    );
  }

  /** The wire packet a relayer journaled for a transaction: stage 1 only for the intake, countersigned for the peer. */
  private async baseOf(txId: string, key: SideKey): Promise<Record<string, unknown>> {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(this.c.business[key].storePath, { readonly: true });
    try {
      const row = db.prepare("SELECT packet FROM relayer_tx WHERE tx_id = ?").get(txId.toLowerCase()) as
        { packet: string } | undefined;
      if (row === undefined) throw new Error(`transaction ${txId} not journaled by ${key}`);
      const wire = JSON.parse(row.packet) as { signatures: Record<string, unknown> };
      if (key === "a") wire.signatures = { app: wire.signatures.app };
      return wire as unknown as Record<string, unknown>;
    } finally {
      db.close();
    }
  }

  /** Zero lost, zero duplicated, all final: the ledger against both sub-chains. */
  async check(): Promise<{ lost: number; duplicated: ChaosReport["duplicated"]; notFinal: string[] }> {
    await this.refresh();
    const lost = [...this.tracked.values()].filter((t) => t.state === "None").length;
    const notFinal = [...this.tracked.values()]
      .filter((t) => !FINAL.has(t.state) && t.state !== "Manual")
      .map((t) => `${t.txId.slice(0, 10)} ${t.state}`);
    const gatewayB = SubchainGateway__factory.connect(this.c.business.b.contracts.gateway, this.subB);
    const gatewayA = SubchainGateway__factory.connect(this.c.business.a.contracts.gateway, this.subA);
    const ledger = TransactionLedger__factory.connect(this.c.governance.ledger, this.gov);
    const dupes = (keys: string[]) => keys.length - new Set(keys).size;
    const [execB, execA, results, endorsements, compensations] = await Promise.all([
      gatewayB.queryFilter(gatewayB.filters.InboundExecuted(), 0),
      gatewayA.queryFilter(gatewayA.filters.InboundExecuted(), 0),
      ledger.queryFilter(ledger.filters.ResultRecorded(), 0),
      ledger.queryFilter(ledger.filters.Endorsed(), 0),
      ledger.queryFilter(ledger.filters.CompensationRecorded(), 0),
    ]);
    const executions =
      dupes(execB.map((e) => `${e.args.pipeId}:${e.args.sequence}`)) +
      dupes(execA.map((e) => `${e.args.pipeId}:${e.args.sequence}`));
    const resultDupes = dupes(results.map((e) => `${e.args.txId}:${e.args.step}`));
    const endorsementDupes = dupes(endorsements.map((e) => `${e.args.txId}:${e.args.verifier}`));
    const undone = new Set(compensations.filter((e) => e.args.success).map((e) => String(e.args.txId)));
    const doneAndCompensated = [...this.tracked.values()].filter(
      (t) => t.state === "Confirmed" && undone.has(t.txId),
    ).length;
    return {
      lost,
      duplicated: { executions, results: resultDupes, endorsements: endorsementDupes, doneAndCompensated },
      notFinal,
    };
  }
}
