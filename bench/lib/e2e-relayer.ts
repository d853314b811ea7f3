/**
 * The relayer path of the e2e benchmark: app-signed custody writes A -> B posted to Drug Maker A's intake, each
 * timed from its POST to the ledger's `Endorsed(..., Confirmed)`; and a relayer's memory with 10,000 packets
 * pending (the governance chain stops mining, so nothing the relayer sends there completes).
 */
import { toBeHex, zeroPadValue, type JsonRpcProvider } from "ethers";
import { readFileSync } from "node:fs";
import { toFunctionSelector, type AbiFunction, type LocalAccount } from "viem";
import * as abis from "../../lib/abi/interfaces.generated";
import type { SignedPacket } from "../../lib/amdp";
import { DrugTraceability__factory, TransactionLedger__factory } from "../../typechain-types";
import type { LocalConsortium } from "../../scripts/lib/local-consortium";
import { localProvider } from "../../scripts/lib/local/accounts";
import { startRelayers, type RelayerProcess } from "../../scripts/lib/local/relayers";
import { appAccount, newBatch, nextSequence, postRequest, signCustodyRequest } from "../../scripts/lib/local/scenario";
import { TxState } from "../../lib/domain/ledger-types";
import { nodePids, type ChainBound } from "./e2e-chain";
import { reportTimeline } from "./e2e-timeline";
import { CpuMeter, resetPeak, rssOf } from "./proc";
import { profileWindow, relayerProfileDir } from "./profile-window";
import type { Reporter } from "./report";
import { receiptOf, sender } from "./senders";
import { percentile } from "./stats";

export interface RelayerBenchOptions {
  /**
   * Transactions run one at a time and not measured before the latency samples (a fresh process's first ones pay for
   * JIT compilation, lazy imports, first connections).
   */
  warmup?: number;
  latencySamples: number;
  throughputTxs: number;
  concurrency: number;
  /** Packets held pending for the memory figure. */
  pendingPackets?: number;
}

const ledgerIface = TransactionLedger__factory.createInterface();
const drugIface = DrugTraceability__factory.createInterface();
/** The confirmation is told by the `Endorsed` that made it (`to`, its third indexed topic). */
const ENDORSED = ledgerIface.getEvent("Endorsed")!.topicHash;
const HOPS = 2;

/** Follows the ledger's Confirmed transitions, polling the head every few ms; resolves one waiter per txId. */
export class ConfirmationWatcher {
  private readonly waiters = new Map<string, (at: number) => void>();
  private readonly early = new Map<string, number>();
  private cursor = 0;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly provider: JsonRpcProvider,
    private readonly ledger: string,
  ) {
    this.loop = this.poll();
  }

  /** The time (performance.now()) the transaction was seen Confirmed. */
  confirmed(txId: string): Promise<number> {
    const key = txId.toLowerCase();
    const seen = this.early.get(key);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.set(key, resolve));
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async poll(): Promise<void> {
    this.cursor = await this.provider.getBlockNumber();
    while (this.running) {
      const head = await this.provider.getBlockNumber();
      if (head > this.cursor) {
        const logs = await this.provider.getLogs({
          address: this.ledger,
          topics: [ENDORSED, null, null, zeroPadValue(toBeHex(TxState.Confirmed), 32)],
          fromBlock: this.cursor + 1,
          toBlock: head,
        });
        const now = performance.now();
        for (const log of logs) this.settle(log.topics[1].toLowerCase(), now);
        this.cursor = head;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  private settle(txId: string, at: number): void {
    const waiter = this.waiters.get(txId);
    if (waiter) {
      this.waiters.delete(txId);
      waiter(at);
    } else this.early.set(txId, at);
  }
}

/** Signs `n` custody writes with increasing sequences (not timed: the app's work). */
async function signMany(c: LocalConsortium, app: LocalAccount, n: number): Promise<SignedPacket[]> {
  const pipe = c.pipes.aToB;
  let sequence = await nextSequence(c, pipe);
  const { batchId, dataHash } = newBatch("bench-relayer");
  const out: SignedPacket[] = [];
  for (let i = 0; i < n; i++)
    out.push(
      await signCustodyRequest(c, app, {
        pipe,
        batchId,
        custodian: c.business.b.accounts.operator.address,
        dataHash,
        sequence: sequence++,
      }),
    );
  return out;
}

/**
 * Posts packets in sequence order (each after the previous one's 202: the relayer refuses a lower sequence after a
 * higher one).
 */
async function postAll(
  intake: string,
  packets: SignedPacket[],
  watcher: ConfirmationWatcher,
): Promise<{ posted: number[]; confirmed: Promise<number>[] }> {
  const posted: number[] = [];
  const confirmed: Promise<number>[] = [];
  for (const p of packets) {
    posted.push(performance.now());
    confirmed.push(watcher.confirmed(p.packet.txId));
    await postRequest(intake, p);
  }
  return { posted, confirmed };
}

export async function latencyAndThroughput(
  c: LocalConsortium,
  relayers: RelayerProcess[],
  watcher: ConfirmationWatcher,
  report: Reporter,
  bound: ChainBound,
  opts: RelayerBenchOptions,
): Promise<void> {
  const intake = relayers.find((r) => r.side.key === "a")!.intakeUrl;
  const app = await appAccount(c, c.pipes.aToB);
  const latencies: number[] = [];
  const samples = await signMany(c, app, (opts.warmup ?? 0) + opts.latencySamples);
  for (const [i, p] of samples.entries()) {
    const { posted, confirmed } = await postAll(intake, [p], watcher);
    const latency = (await confirmed[0]) - posted[0];
    if (i >= (opts.warmup ?? 0)) latencies.push(latency);
  }
  // With the relayers' debug logs: where the samples' time went (E2E_RELAYER_LOG_LEVEL=debug).
  if (process.env.E2E_RELAYER_LOG_LEVEL === "debug")
    reportTimeline(
      report,
      c.runDir,
      samples.slice(opts.warmup ?? 0).map((p) => p.packet.txId),
    );
  // Read before the throughput run: the collection times of the latency run (warm-up included).
  const targetMetrics = relayers.find((r) => r.side.key === "b")!.metricsUrl;
  const collection = await attestationSummary(targetMetrics, "ccgp_attestation_collect_seconds");
  const wait = await attestationSummary(targetMetrics, "ccgp_attestation_wait_seconds");
  const packets = await signMany(c, app, opts.throughputTxs);
  const callsBefore = await Promise.all(relayers.map((r) => rpcCalls(r.metricsUrl)));
  const cpu = new CpuMeter({
    ...nodePids(c),
    ...Object.fromEntries(relayers.map((r) => [`relayer of ${r.side.name}`, r.pid])),
  });
  const endWindow = profileWindow("throughput");
  const { posted, confirmed } = await postAll(intake, packets, watcher);
  const done = await Promise.all(confirmed);
  endWindow();
  const tps = (packets.length * 1000) / (Math.max(...done) - posted[0]);
  const used = cpu.report(report, "relayer throughput", packets.length);
  const relayersCpu = relayers.reduce((s, r) => s + used[`relayer of ${r.side.name}`]!, 0);
  report.target("relayerCpu", relayersCpu / bound.governanceCpuMs);
  report.target("governanceExtraCpu", (used["governance node"]! - bound.governanceCpuMs) / bound.governanceCpuMs);
  reportRpcCalls(
    report,
    "relayer throughput",
    callsBefore,
    await Promise.all(relayers.map((r) => rpcCalls(r.metricsUrl))),
    packets.length,
  );
  const [p50, p99] = [percentile(latencies, 50), percentile(latencies, 99)];
  report.figure("through two relayers: latency p50 (POST to Confirmed)", p50, "ms");
  report.figure("through two relayers: latency p99", p99, "ms");
  report.figure(`through two relayers: throughput (${packets.length} txs posted back to back)`, tps, "tx/s");
  report.figure("throughput ratio relayers / chain-bound (target >= 1.0)", tps / bound.tps);
  report.target("throughputRatio", tps / bound.tps);
  report.figure(
    `relayer-added latency per hop, p50 ((p50 - chain-bound p50) / ${HOPS}, target < 15)`,
    (p50 - bound.p50) / HOPS,
    "ms",
  );
  report.target("hopLatency", (p50 - bound.p50) / HOPS);
  report.figure(`relayer-added latency per hop, p99`, (p99 - bound.p99) / HOPS, "ms");
  // What the attestations add to the same run's path: the target relayer starts collecting them when it has checked
  // the packet's signatures, so the step waits only for what is left (one collection per transaction here).
  const verdict = wait.p50 <= ATTESTATION_TARGET_MS ? "met" : "missed";
  report.figure(
    "through two relayers: attestation collection p50 / p95, target relayer (started at the packet's check)",
    `${collection.p50.toFixed(1)} / ${collection.p95.toFixed(1)}`,
    "ms",
  );
  report.figure(
    "through two relayers: attestations added to the path, p50: the step's wait " +
      `(target <= ${ATTESTATION_TARGET_MS}: ${verdict})`,
    wait.p50,
    "ms",
  );
  report.figure("through two relayers: the step's wait for attestations, p95", wait.p95, "ms");
  report.figure(
    "through two relayers: latency p50 less the attestations' p50 wait (the path without them)",
    p50 - wait.p50,
    "ms",
  );
}

const ATTESTATION_TARGET_MS = 10;

/** The quantiles of one of the relayer's summaries (`ccgp_attestation_*_seconds`), in milliseconds. */
async function attestationSummary(metricsUrl: string, name: string): Promise<{ p50: number; p95: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const quantile = (q: string) => {
    const m = new RegExp(`^${name}\\{quantile="${q}"\\} (\\S+)$`, "m").exec(text);
    return m === null ? Number.NaN : Number(m[1]) * 1000;
  };
  return { p50: quantile("0.5"), p95: quantile("0.95") };
}

type AbiItem = { type: string } & Partial<AbiFunction>;

let selectorNames: Map<string, string> | undefined;

/** `eth_call 0x1234abcd` -> `eth_call pipeOf`, from every contract ABI of the build. */
function nameSelector(key: string): string {
  const m = /^(\S+ eth_call) (0x[0-9a-f]{8})$/.exec(key);
  if (!m) return key;
  if (selectorNames === undefined) {
    selectorNames = new Map();
    for (const abi of Object.values(abis))
      for (const item of abi as readonly AbiItem[])
        if (item.type === "function") selectorNames.set(toFunctionSelector(item as AbiFunction), item.name!);
  }
  return `${m[1]} ${selectorNames.get(m[2]!) ?? m[2]}`;
}

/** The relayer's `ccgp_rpc_calls_total` counters: calls to each chain's node, by method. */
async function rpcCalls(metricsUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const calls = new Map<string, number>();
  for (const m of text.matchAll(/^ccgp_rpc_calls_total\{chain="([^"]*)",method="([^"]*)"\} (\S+)$/gm))
    calls.set(`${m[1]} ${m[2]}`, Number(m[3]));
  return calls;
}

/** JSON-RPC calls per transaction made by the relayers between two readings, by chain and method, largest first. */
function reportRpcCalls(
  report: Reporter,
  phase: string,
  before: Map<string, number>[],
  after: Map<string, number>[],
  transactions: number,
): void {
  const sum = new Map<string, number>();
  after.forEach((calls, i) => {
    for (const [key, n] of calls) sum.set(key, (sum.get(key) ?? 0) + n - (before[i]!.get(key) ?? 0));
  });
  const total = [...sum.values()].reduce((s, n) => s + n, 0);
  report.figure(`${phase}: JSON-RPC calls per transaction, both relayers`, total / transactions);
  report.target("rpcCalls", total / transactions);
  // Every method above 0.1 a transaction; `eth_call 0x...` rows (CCGP_RPC_CALLS_BY_SELECTOR=1) named by function.
  for (const [key, n] of [...sum].sort((a, b) => b[1] - a[1]))
    if (n / transactions >= 0.1) report.figure(`${phase}:   ${nameSelector(key)}`, n / transactions);
}

/**
 * The relayer's `ccgp_outbox_pending` gauge; -1 when the metrics endpoint did not answer (a relayer taking thousands of
 * packets may reset a connection: the caller asks again rather than losing the run).
 */
async function outboxPending(metricsUrl: string): Promise<number> {
  try {
    const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
    return Number(/^ccgp_outbox_pending(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? 0);
  } catch {
    return -1;
  }
}

/**
 * What the relayer's resident memory is made of: anonymous (heaps) and file-backed pages from /proc, and V8's heap
 * (used and reserved) and the memory outside it from the relayer's own process metrics.
 */
async function memoryParts(report: Reporter, source: RelayerProcess): Promise<void> {
  const status = readFileSync(`/proc/${source.pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  report.figure(
    "  of which anonymous (heaps) / file-backed (code, libraries)",
    `${(kb("RssAnon") / 1024).toFixed(1)} / ${(kb("RssFile") / 1024).toFixed(1)}`,
    "MiB",
  );
  try {
    const text = await (await fetch(source.metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
    const metric = (name: string) =>
      Number(new RegExp(`^\\w*${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? NaN) / 1048576;
    report.figure(
      "  V8 heap used / reserved, memory outside it (external)",
      `${metric("nodejs_heap_size_used_bytes").toFixed(1)} / ${metric("nodejs_heap_size_total_bytes").toFixed(1)}, ` +
        `${metric("nodejs_external_memory_bytes").toFixed(1)}`,
      "MiB",
    );
  } catch {
    // The metrics endpoint may be slow under this load; the RSS figures above stand without it.
  }
}

/**
 * Sub-chain A's contract asks for `n` custody transfers (`requestCustodyTransfer`, chain-initiated), each a packet
 * Drug Maker A's relayer takes from the gateway's events and must open on the ledger first; the governance chain
 * stops mining, so all of them stay pending. Peak RSS of the relayer meanwhile.
 */
async function pendingMemory(c: LocalConsortium, source: RelayerProcess, report: Reporter, n: number): Promise<void> {
  const a = c.business.a;
  const gov = localProvider(c.chains.governance.url, c.chains.governance.chainId);
  const operator = await sender(c, a.accounts.operator.keystore, "a");
  try {
    const { batchId, dataHash } = newBatch("bench-pending");
    await operator.send(
      a.contracts.drugTraceability,
      drugIface.encodeFunctionData("recordBatch", [batchId, a.accounts.operator.address, dataHash]),
      300_000n,
      "recordBatch",
    );
    const request = drugIface.encodeFunctionData("requestCustodyTransfer", [
      c.pipes.aToB.id,
      c.pipes.aToB.contractNameHash,
      batchId,
      c.business.b.accounts.operator.address,
      dataHash,
    ]);
    const idle = rssOf(source.pid);
    const reset = resetPeak(source.pid);
    await gov.send("evm_setAutomine", [false]);
    let peakSampled = idle.rss;
    const sampler = setInterval(() => (peakSampled = Math.max(peakSampled, rssOf(source.pid).rss)), 50);
    try {
      for (let i = 0; i < n; i += 500) {
        const hashes = await Promise.all(
          Array.from({ length: Math.min(500, n - i) }, () =>
            operator.broadcast(a.contracts.drugTraceability, request, 300_000n),
          ),
        );
        await receiptOf(operator.provider, hashes[hashes.length - 1]);
      }
      const deadline = Date.now() + 300_000;
      let pending = 0;
      while ((pending = await outboxPending(source.metricsUrl)) < n && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 500));
      await new Promise((r) => setTimeout(r, 2_000));
      const now = rssOf(source.pid);
      // E2E_HEAP_SNAPSHOT=1 with CCGP_RELAYER_NODE_ARGS="--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=<dir>": a heap
      // snapshot of the relayer holding them, to see what one pending item keeps (after the RSS figure, which it
      // moves).
      if (process.env.E2E_HEAP_SNAPSHOT) {
        process.kill(source.pid, "SIGUSR2");
        await new Promise((r) => setTimeout(r, 30_000));
      }
      const label =
        `${n.toLocaleString("en-US")} chain-initiated packets (outbox pending ` + `${pending.toLocaleString("en-US")})`;
      report.figure("relayer RSS idle, after the runs above", idle.rss / 1024, "MiB");
      report.figure(`relayer peak RSS taking ${label}`, (reset ? now.peak : peakSampled) / 1024, "MiB");
      report.figure(`relayer RSS holding them`, now.rss / 1024, "MiB");
      report.target("rssIdle", idle.rss / 1024);
      report.target("rssPending", now.rss / 1024);
      await memoryParts(report, source);
    } finally {
      clearInterval(sampler);
    }
  } finally {
    operator.provider.destroy();
    gov.destroy();
  }
}

/** Starts both relayers, measures, stops them. */
export async function relayerBench(
  c: LocalConsortium,
  report: Reporter,
  bound: ChainBound,
  opts: RelayerBenchOptions,
): Promise<void> {
  const relayers = await startRelayers(c, [c.business.a, c.business.b]);
  const gov = localProvider(c.chains.governance.url, c.chains.governance.chainId);
  const watcher = new ConfirmationWatcher(gov, c.governance.ledger);
  try {
    const source = relayers.find((r) => r.side.key === "a")!;
    await latencyAndThroughput(c, relayers, watcher, report, bound, opts);
    await watcher.stop();
    // E2E_PENDING=0 skips the memory phase (a profiled run: the relayers then stop cleanly and write their profiles).
    if (opts.pendingPackets !== 0) await pendingMemory(c, source, report, opts.pendingPackets ?? 10_000);
  } finally {
    await watcher.stop();
    gov.destroy();
    // A profiled relayer writes its profile as it exits: give it the time (a killed one writes none).
    await Promise.all(relayers.map((r) => r.stop(relayerProfileDir() === undefined ? 3_000 : 60_000)));
  }
}
