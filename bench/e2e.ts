/**
 * End-to-end cross-chain benchmark on a local consortium (three anvil chains): custody writes A -> B.
 * - chain-bound: the same chain transactions a relayer pair sends (ledger open, gateway execute, result, two
 *   endorsements) sent straight to the nodes, one at a time (latency) and many at once (throughput);
 * - through the relayers (when the runtime is in the checkout): app-signed packets posted to A's intake, timed to
 *   the ledger's Confirmed; the ratio to the chain-bound throughput (target >= 1.0), the latency each relayer adds
 *   per hop (target < 15 ms p50), and a relayer's peak RSS holding 10,000 pending packets.
 * Printed only, never asserted: BENCH_ONLY=e2e npx hardhat run bench/index.ts
 * E2E_WARMUP (default 20): relayer transactions run unmeasured before the latency samples (steady state).
 * Timeline of each transaction: E2E_RELAYER_LOG_LEVEL=debug prints the p50 time of each milestone of the latency
 * samples (bench/lib/e2e-timeline.ts, from the logs in the run dir's logs/; E2E_RUN_DIR names the run dir). Profiling a relayer process meanwhile: CCGP_RELAYER_NODE_ARGS="--cpu-prof
 * --cpu-prof-dir=/tmp/prof" (node flags for the spawned relayers; `node --cpu-prof` cannot go through NODE_OPTIONS), then
 * `bench/cpu-profile.ts /tmp/prof` for the throughput phase's samples by activity, module and function.
 */
import { setupLocalConsortium, type LocalConsortium } from "../scripts/lib/local-consortium";
import { chainPath, nodePids, type ChainBound } from "./lib/e2e-chain";
import { relayerBench } from "./lib/e2e-relayer";
import { CpuMeter } from "./lib/proc";
import { inParallel, percentile } from "./lib/stats";
import type { BenchModule, Reporter } from "./lib/report";

const LATENCY_SAMPLES = Number(process.env.E2E_LATENCY_SAMPLES ?? 40);
/** Relayer transactions run before the latency samples, unmeasured (the relayers' steady state, not their start-up). */
const WARMUP = Number(process.env.E2E_WARMUP ?? 20);
const THROUGHPUT_TXS = Number(process.env.E2E_THROUGHPUT_TXS ?? 400);
const CONCURRENCY = Number(process.env.E2E_CONCURRENCY ?? 32);
const PENDING = Number(process.env.E2E_PENDING ?? 10_000);

async function chainBound(c: LocalConsortium, report: Reporter): Promise<ChainBound> {
  const path = await chainPath(c);
  try {
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) latencies.push(await path.run(await path.sign()));
    const signed = [];
    for (let i = 0; i < THROUGHPUT_TXS; i++) signed.push(await path.sign());
    const cpu = new CpuMeter(nodePids(c));
    const start = performance.now();
    await inParallel(signed, CONCURRENCY, (s) => path.run(s));
    const tps = (THROUGHPUT_TXS * 1000) / (performance.now() - start);
    const used = cpu.report(report, "chain-bound throughput", THROUGHPUT_TXS);
    const governanceCpuMs = used["governance node"]!;
    const result = { p50: percentile(latencies, 50), p99: percentile(latencies, 99), tps, governanceCpuMs };
    report.figure("chain-bound latency p50 (open, execute, result, 2 endorsements)", result.p50, "ms");
    report.figure("chain-bound latency p99", result.p99, "ms");
    report.figure(`chain-bound throughput (${THROUGHPUT_TXS} txs, ${CONCURRENCY} at once)`, result.tps, "tx/s");
    return result;
  } finally {
    path.close();
  }
}

export const e2eBench: BenchModule = {
  name: "e2e",
  kind: "perf",
  async run(report) {
    // No empty interval blocks: every block is a transaction's, as on the chain-bound path.
    const c = await setupLocalConsortium({
      runDir: process.env.E2E_RUN_DIR,
      blockTime: 0,
      confirmations: 0,
      pipeRatePerMinute: 1_000_000,
      relayerRatePerSecond: 100_000,
      relayerLogLevel: process.env.E2E_RELAYER_LOG_LEVEL ?? "warn",
      relayerPollIntervalMs: 20,
      auditorApi: false,
      verifier: false,
    });
    try {
      const bound = await chainBound(c, report);
      // The independent verifier runs for the relayers (the chain-bound path endorsed with its key itself).
      await c.verifier.start();
      await relayerBench(c, report, bound, {
        warmup: WARMUP,
        latencySamples: LATENCY_SAMPLES,
        throughputTxs: THROUGHPUT_TXS,
        concurrency: CONCURRENCY,
        pendingPackets: PENDING,
      });
    } finally {
      await c.stop();
    }
  },
};
