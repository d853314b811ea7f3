/**
 * Attestation round trip on a local consortium (three anvil chains): what a target relayer waits for before each
 * gateway call. Transactions A -> B are opened on the ledger by hand (untimed); for each, the relayer's own collector
 * (`collectAttestations`) asks the Audit Office's attester endpoint over HTTP, the attester checks the request on the
 * governance chain (transaction state, the accepted packet, the pipe's route and sub-chain) and signs, and the
 * collector checks the signer against the gateway's current set. Target: p50 at most 10 ms (the latency the
 * attestations may add to a transaction through the relayers).
 * Printed only, never asserted: BENCH_ONLY=attestation npx hardhat run bench/index.ts
 * ATTEST_SAMPLES (default 40) timed round trips, after ATTEST_WARMUP (default 5) untimed ones.
 */
import type { Address, Hex } from "viem";
import { toWire } from "../lib/amdp";
import { attestationOf } from "../relayer/src/attest/attestation";
import { Attester, type AttestationRequest } from "../relayer/src/attest/attester";
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
  const attester = new Attester({
    rpcUrl: c.chains.governance.url,
    ledger: gov.ledger as Address,
    pipes: gov.pipes as Address,
    chains: gov.chains as Address,
    attesters: gov.attesters as Address,
    account: await loadKeystore(c.accounts.auditor.keystore, c.password),
  });
  const server = await startAttesterServer(attester);
  try {
    const b = c.business.b;
    const auditor = c.accounts.auditor.address as Address;
    const set = { threshold: 1, attesters: [auditor] };
    const endpoints = fixedAttesterEndpoints([{ attester: auditor, url: server.url }]);
    const collect = { timeoutMs: 5_000, retries: 0 };
    const latencies: number[] = [];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const { signed, call } = await openCustodyWrite(c, `attestation-bench-${i}`);
      const request: AttestationRequest = {
        packet: toWire(signed).packet as AttestationRequest["packet"],
        payload: signed.payload,
        step: 0,
      };
      const expected = attestationOf(call, b.subchain.id as Hex, b.contracts.gateway as Address);
      const start = performance.now();
      await collectAttestations(request, expected, c.chains.b.chainId, set, endpoints, collect);
      if (i >= WARMUP) latencies.push(performance.now() - start);
    }
    const p50 = percentile(latencies, 50);
    const verdict = p50 <= TARGET_P50_MS ? "met" : `missed by ${(p50 - TARGET_P50_MS).toFixed(1)} ms`;
    report.figure(
      `attestation round trip p50 (${SAMPLES} samples, 1 attester)`,
      p50.toFixed(1),
      `ms (target <= ${TARGET_P50_MS} ms: ${verdict})`,
    );
    report.figure("attestation round trip p95", percentile(latencies, 95).toFixed(1), "ms");
  } finally {
    await server.stop();
    await c.stop();
  }
}

export const attestationBench: BenchModule = { name: "attestation", kind: "perf", run };
