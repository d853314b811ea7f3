/**
 * Latency of the same asset transfer (a debit on Drug Maker A's AssetLedger, a credit on Hospital B's, through the
 * assets pipe) on its two paths, end to end through the relayers on a local consortium: compensation (each side
 * executes, results recorded) against two-phase (each side prepares, both prepares recorded, each side commits, both
 * commits recorded). Timed from the app's post to the ledger's Confirmed, one transfer at a time, the modes
 * alternating so both see the same machine load. The gas of both paths is the `two-phase` module's.
 * Printed only, never asserted: BENCH_ONLY=two-phase-latency npx hardhat run bench/index.ts
 * TWO_PHASE_SAMPLES (default 10) transfers per mode, after TWO_PHASE_WARMUP (default 2) unmeasured ones each.
 */
import { loadavg } from "node:os";
import type { TxMode } from "../lib/domain/plan";
import { setupLocalConsortium, type LocalConsortium } from "../scripts/lib/local-consortium";
import { startRelayers, type RelayerProcess } from "../scripts/lib/local/relayers";
import { appAccount, ledgerState, nextSequence, postRequest } from "../scripts/lib/local/scenario";
import { issueOnA, newAccount, signTransfer } from "../scripts/lib/local/transfer";
import type { BenchModule } from "./lib/report";
import { percentile } from "./lib/stats";

const SAMPLES = Number(process.env.TWO_PHASE_SAMPLES ?? 10);
const WARMUP = Number(process.env.TWO_PHASE_WARMUP ?? 2);
const TIMEOUT_MS = 120_000;
const POLL_MS = 20;

/** One transfer in `mode`, posted to A's intake; ms from the post to the ledger's Confirmed. */
async function transfer(c: LocalConsortium, source: RelayerProcess, from: string, mode: TxMode): Promise<number> {
  const pipe = c.pipes.assets!;
  const { signed, fields } = await signTransfer(c, await appAccount(c, pipe), {
    from: from as `0x${string}`,
    to: newAccount("bench-b"),
    amount: 1n,
    mode,
    sequence: await nextSequence(c, pipe),
  });
  const began = performance.now();
  await postRequest(source.intakeUrl, signed, fields);
  for (;;) {
    const state = await ledgerState(c, signed.packet.txId);
    if (state === "Confirmed") return performance.now() - began;
    if (!["None", "Open", "Executing", "Committing", "Executed"].includes(state))
      throw new Error(`${mode} transfer ${signed.packet.txId} ended ${state}`);
    if (performance.now() - began > TIMEOUT_MS)
      throw new Error(`${mode} transfer still ${state} after ${TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export const twoPhaseLatencyBench: BenchModule = {
  name: "two-phase-latency",
  kind: "perf",
  async run(report) {
    // Every block is a transaction's (no interval blocks), as in the e2e module.
    const c = await setupLocalConsortium({
      blockTime: 0,
      confirmations: 0,
      relayerLogLevel: "warn",
      relayerPollIntervalMs: 20,
      auditorApi: false,
      assets: true,
    });
    let relayers: RelayerProcess[] = [];
    try {
      await c.verifier.start();
      relayers = await startRelayers(c, [c.business.a, c.business.b]);
      const source = relayers.find((r) => r.side.key === "a")!;
      const from = newAccount("bench-a");
      await issueOnA(c, from, BigInt(2 * (SAMPLES + WARMUP)));
      const times: Record<TxMode, number[]> = { compensation: [], "two-phase": [] };
      const load = loadavg()[0]!;
      for (let i = 0; i < WARMUP + SAMPLES; i++)
        for (const mode of ["compensation", "two-phase"] as const) {
          const ms = await transfer(c, source, from, mode);
          if (i >= WARMUP) times[mode].push(ms);
        }
      const [comp, two] = [times.compensation, times["two-phase"]];
      report.figure(
        `transfer A -> B, compensation: p50 (${SAMPLES} samples, post to Confirmed)`,
        percentile(comp, 50),
        "ms",
      );
      report.figure("transfer A -> B, compensation: p95", percentile(comp, 95), "ms");
      report.figure(
        `transfer A -> B, two-phase: p50 (${SAMPLES} samples, post to Confirmed)`,
        percentile(two, 50),
        "ms",
      );
      report.figure("transfer A -> B, two-phase: p95", percentile(two, 95), "ms");
      report.figure(
        "two-phase / compensation, p50 latency",
        percentile(two, 50) / percentile(comp, 50),
        "x (target <= 2: twice the transactions in sequence)",
      );
      report.figure("load average (1 min), mean of the start and the end", (load + loadavg()[0]!) / 2, "");
    } finally {
      await Promise.all(relayers.map((r) => r.stop(3_000)));
      await c.stop();
    }
  },
};
