import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, toHex } from "viem";
import { RelayerStore } from "../relayer/src/store";
import type { BenchModule } from "./lib/report";

const BLOCKS = 500;
const ITEMS_PER_BLOCK = 10;

/** Durable-store throughput with WAL + synchronous=FULL (each commit is fsynced): printed, never asserted. */
export const relayerStoreBench: BenchModule = {
  name: "relayer-store",
  kind: "perf",
  async run(report) {
    const dir = mkdtempSync(join(tmpdir(), "ccgp-bench-store-"));
    const store = RelayerStore.open({ path: join(dir, "bench.sqlite") });
    try {
      let start = performance.now();
      for (let h = 1; h <= BLOCKS; h++) {
        const items = Array.from({ length: ITEMS_PER_BLOCK }, (_, i) => ({
          id: `sub_a:${h}:${i}`,
          kind: "packet" as const,
          payload: { h, i, data: "x".repeat(200) },
        }));
        store.recordBlock("sub_a", BigInt(h), keccak256(toHex(h)), items);
      }
      let ms = performance.now() - start;
      report.figure(`recordBlock (${ITEMS_PER_BLOCK} items, one fsynced commit)`, (BLOCKS * 1000) / ms, "blocks/s");

      start = performance.now();
      let done = 0;
      for (;;) {
        const batch = store.claimDue(Date.now(), 100);
        if (batch.length === 0) break;
        for (const item of batch) store.markDone(item.id);
        done += batch.length;
      }
      ms = performance.now() - start;
      report.figure("claimDue(100) + markDone per item", (done * 1000) / ms, "items/s");

      start = performance.now();
      for (let i = 0; i < 2_000; i++) store.acceptInbound(`packet:pipe:${i}`, { i });
      ms = performance.now() - start;
      report.figure("acceptInbound (one fsynced commit each)", (2_000 * 1000) / ms, "packets/s");
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
