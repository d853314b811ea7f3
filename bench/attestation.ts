/**
 * Attestation round trip on a local consortium (three anvil chains): what a target relayer waits for before each
 * gateway call. Transactions A -> B are opened on the ledger by hand (untimed); for each, the relayer's own collector
 * (`collectAttestations`) asks an attester endpoint of the Audit Office's key over HTTP and checks the signer against
 * the gateway's set. Two attesters answer, each timed on every transaction:
 * - one that follows the ledger and signed the packet when it saw the open (waited for, untimed, as the target
 *   relayer sees the open before it collects): the request is a lookup plus one batched read of the transaction's
 *   state, the pipe's route and the gateway;
 * - one that only answers requests (after a restart, or for a source step): it checks the request on the governance
 *   chain (state, the accepted packet, the step, the route and sub-chain) and signs then.
 * Target: p50 at most 10 ms (the latency the attestations may add to a transaction through the relayers).
 * Printed only, never asserted: BENCH_ONLY=attestation npx hardhat run bench/index.ts
 * ATTEST_SAMPLES (default 40) timed round trips, after ATTEST_WARMUP (default 5) untimed ones.
 */
import type { Address, Hex } from "viem";
import { toWire } from "../lib/amdp";
import { attestationOf } from "../relayer/src/attest/attestation";
import { Attester, type AttestationRequest } from "../relayer/src/attest/attester";
import { attesterChain } from "../relayer/src/attest/chain";
import { collectAttestations } from "../relayer/src/attest/collect";
import { fixedAttesterEndpoints } from "../relayer/src/attest/endpoints";
import { startAttesterServer } from "../relayer/src/attest/server";
import { loadKeystore } from "../relayer/src/keys";
import { setupLocalConsortium } from "../scripts/lib/local-consortium";
import { openCustodyWrite } from "../scripts/lib/local/scenario";
import { percentile } from "./lib/stats";
import type { BenchModule, Reporter } from "./lib/report";

const SAMPLES = Number(process.env.ATTEST_SAMPLES ?? 40);
const WARMUP = Number(process.env.ATTEST_WARMUP ?? 5);
const TARGET_P50_MS = 10;

async function run(report: Reporter): Promise<void> {
  const log = process.env.ATTEST_LOG === "1" ? (line: string) => console.log(`  ${line}`) : undefined;
  const c = await setupLocalConsortium({
    log,
    blockTime: 0,
    confirmations: 0,
    relayerLogLevel: "warn",
    auditorApi: false,
    verifier: false,
  });
  const gov = c.governance;
  const account = await loadKeystore(c.accounts.auditor.keystore, c.password);
  const governance = await attesterChain(c.chains.governance.url, gov.ledger as Address, account);
  const attesterOf = () =>
    new Attester({
      chain: governance.chain,
      ledger: gov.ledger as Address,
      pipes: gov.pipes as Address,
      chains: gov.chains as Address,
      attesters: gov.attesters as Address,
      account,
    });
  const ahead = attesterOf();
  const onDemand = attesterOf();
  const servers = await Promise.all([startAttesterServer(ahead), startAttesterServer(onDemand)]);
  ahead.start();
  try {
    const b = c.business.b;
    const auditor = c.accounts.auditor.address as Address;
    const set = { threshold: 1, attesters: [auditor] };
    const endpoints = servers.map((s) => fixedAttesterEndpoints([{ attester: auditor, url: s.url }]));
    const collect = { timeoutMs: 5_000, retries: 0 };
    const latencies: [number[], number[]] = [[], []];
    const lags: number[] = [];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const { signed, call } = await openCustodyWrite(c, `attestation-bench-${i}`);
      const opened = performance.now();
      while (!ahead.holds(signed.packet)) {
        if (performance.now() - opened > 10_000) throw new Error("the following attester did not sign ahead in 10 s");
        await new Promise((r) => setTimeout(r, 2));
      }
      const lag = performance.now() - opened;
      const request: AttestationRequest = {
        packet: toWire(signed).packet as AttestationRequest["packet"],
        payload: signed.payload,
        step: 0,
      };
      const expected = attestationOf(call, b.subchain.id as Hex, b.contracts.gateway as Address);
      // Alternate which one goes first, so neither always meets a node warmed by the other.
      const order = i % 2 === 0 ? [0, 1] : [1, 0];
      for (const which of order) {
        const start = performance.now();
        await collectAttestations(request, expected, c.chains.b.chainId, set, endpoints[which]!, collect);
        if (i >= WARMUP) latencies[which]!.push(performance.now() - start);
      }
      if (i >= WARMUP) lags.push(lag);
    }
    const { presigned, onDemand: signedOnDemand } = ahead.stats;
    if (signedOnDemand !== 0 || presigned !== WARMUP + SAMPLES)
      throw new Error(`the following attester signed ${signedOnDemand} of its answers on demand`);
    const p50 = percentile(latencies[0], 50);
    const verdict = p50 <= TARGET_P50_MS ? "met" : `missed by ${(p50 - TARGET_P50_MS).toFixed(1)} ms`;
    report.figure(
      `attestation round trip p50, signed when the open was seen (${SAMPLES} samples, 1 attester)`,
      p50.toFixed(1),
      `ms (target <= ${TARGET_P50_MS} ms: ${verdict})`,
    );
    report.figure(
      "attestation round trip p95, signed when the open was seen",
      percentile(latencies[0], 95).toFixed(1),
      "ms",
    );
    report.figure("attestation round trip p50, signed on demand", percentile(latencies[1], 50).toFixed(1), "ms");
    report.figure("attestation round trip p95, signed on demand", percentile(latencies[1], 95).toFixed(1), "ms");
    report.figure("attester: open mined -> signed ahead, p50", percentile(lags, 50).toFixed(1), "ms");
  } finally {
    await ahead.stop();
    await Promise.all(servers.map((s) => s.stop()));
    governance.close();
    await c.stop();
  }
}

export const attestationBench: BenchModule = { name: "attestation", kind: "perf", run };
