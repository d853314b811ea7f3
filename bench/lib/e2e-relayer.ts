import type { LocalConsortium } from "../../scripts/lib/local-consortium";
import type { ChainBound } from "../e2e";
import type { Reporter } from "./report";

export interface RelayerBenchOptions {
  latencySamples: number;
  throughputTxs: number;
  concurrency: number;
}

/** Placeholder until the relayer runtime is merged. */
export async function relayerBench(_c: LocalConsortium, report: Reporter, _bound: ChainBound, _opts: RelayerBenchOptions): Promise<void> {
  report.figure("through the relayers", "not measured yet");
}
