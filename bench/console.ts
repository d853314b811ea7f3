/**
 * The governance console in Debian's chromium (playwright-core), against an anvil governance chain and an auditor
 * index of 10,000 transactions (the auditor bench's synthesizer, through the indexer's write path):
 * - first meaningful paint of the ledger page: from navigation start to its first page of rows in the DOM, in the
 *   page's own clock (cold: the first visit; warm: the next ones). Target < 1 s.
 * - block to page: from the moment a block is mined (`evm_mine` sent) to the moment the page shows its number
 *   (a MutationObserver in the page notes the time). Target < 500 ms.
 * Figures are printed, never asserted.
 */
import { rmSync } from "node:fs";
import type { Address } from "viem";
import { startConsoleServer } from "../console/server/server";
import { IndexStore } from "../auditor/src/store";
import type { IndexedBlock } from "../auditor/src/types";
import { startAnvil } from "../scripts/lib/anvil";
import { launchBrowser } from "../test/console/browser";
import { tempDb } from "../test/auditor/helpers";
import { Synthesizer } from "./auditor";
import type { BenchModule, Reporter } from "./lib/report";

const TRANSACTIONS = Number(process.env.CONSOLE_BENCH_TXS ?? 10_000);
const PAINTS = 5;
const BLOCKS = 20;

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const percentile = (v: number[], p: number) =>
  [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)]!;

function fillIndex(path: string): number {
  const store = IndexStore.open({ path });
  try {
    const synth = new Synthesizer();
    while (synth.opened.length < TRANSACTIONS) {
      const blocks: IndexedBlock[] = [];
      for (let i = 0; i < 1_000 && synth.opened.length < TRANSACTIONS; i++) blocks.push(synth.next());
      store.commit(blocks);
    }
    return synth.opened.length;
  } finally {
    store.close();
  }
}

async function run(report: Reporter): Promise<void> {
  const db = tempDb("bench-console");
  const chain = await startAnvil({ name: "bench-console", chainId: 1337001 });
  const contracts = Object.fromEntries(
    ["membership", "voting", "services", "chains", "pipes", "credit", "ledger"].map((k, i) => [
      k,
      `0x${String(i + 1).padStart(40, "0")}` as Address,
    ]),
  );
  const server = await startConsoleServer({
    config: {
      governance: { url: chain.url, chainId: chain.chainId, contracts },
      subchains: [],
      indexDb: (fillIndex(db.path), db.path),
      auditorApi: null,
      relayers: [],
    },
  });
  const browser = await launchBrowser();
  try {
    report.figure("transactions indexed", TRANSACTIONS, "txs");
    const paints: number[] = [];
    for (let i = 0; i < PAINTS; i++) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
      await page.goto(`${server.url}/#/ledger`, { waitUntil: "commit" });
      paints.push(
        await page
          .waitForFunction(
            () => document.querySelectorAll("[data-testid=ledger] tbody tr").length >= 50 && performance.now(),
            undefined,
            { polling: "raf" },
          )
          .then((h) => h.jsonValue() as Promise<number>),
      );
      await page.close();
    }
    report.figure("ledger page, first meaningful paint (50 of 10,000 rows), cold", paints[0]!, "ms");
    report.figure(`ledger page, first meaningful paint, warm median of ${PAINTS - 1}`, median(paints.slice(1)), "ms");
    report.figure("first meaningful paint target", "1000", "ms");

    const page = await browser.newPage();
    await page.goto(`${server.url}/#/chain`);
    await page.getByTestId("live-head").filter({ hasText: /\d/ }).waitFor();
    await page.evaluate(() => {
      const seen: Record<string, number> = {};
      (window as unknown as { seen: Record<string, number> }).seen = seen;
      const el = document.querySelector("[data-testid=live-head]")!;
      new MutationObserver(() => (seen[el.textContent ?? ""] ??= Date.now())).observe(el, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    const delays: number[] = [];
    for (let i = 0; i < BLOCKS; i++) {
      const sent = Date.now();
      await fetch(chain.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "evm_mine", params: [] }),
      });
      const height = Number(
        (
          await (
            await fetch(chain.url, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
            })
          ).json()
        ).result,
      );
      const shown = await page
        .waitForFunction((h) => (window as unknown as { seen: Record<string, number> }).seen[String(h)], height)
        .then((h) => h.jsonValue() as Promise<number>);
      delays.push(shown - sent);
      await new Promise((r) => setTimeout(r, 150));
    }
    report.figure(`block to page, median of ${BLOCKS} blocks`, median(delays), "ms");
    report.figure("block to page, p95", percentile(delays, 95), "ms");
    report.figure("block to page, max", Math.max(...delays), "ms");
    report.figure("block to page target", "500", "ms");
  } finally {
    await browser.close();
    await server.close();
    await chain.stop();
    rmSync(db.dir, { recursive: true, force: true });
  }
}

export const consoleBench: BenchModule = { name: "console", kind: "perf", run };
