/**
 * The efficiency table: each figure the relayers and the ledger are held to, with its target. Modules report the
 * figures they measure (`Reporter.target`); `npm run bench` prints the whole table at the end of the run, every row,
 * a row no module of this run measured marked so. The table and its history: relayer/RUNTIME.md.
 */
import { loadavg } from "node:os";

export const TARGETS = {
  relayerCpu: {
    row: "relayer CPU per cross-chain tx, both relayers, over the governance node's chain-bound CPU per tx",
    target: 1.0,
    below: true,
    unit: "x",
  },
  governanceExtraCpu: {
    row: "extra governance-node CPU caused by the relayers, over chain-bound",
    target: 0.3,
    below: true,
    unit: "x",
  },
  rpcCalls: { row: "JSON-RPC calls per cross-chain tx, both relayers", target: 25, below: true, unit: "" },
  hopLatency: { row: "relayer-added latency per hop, p50", target: 15, below: true, unit: "ms" },
  rssIdle: { row: "relayer RSS idle", target: 120, below: true, unit: "MiB" },
  rssPending: { row: "relayer RSS with 10,000 pending", target: 160, below: true, unit: "MiB" },
  gas: {
    row: "governance gas per two-step cross-chain tx, amortised at 16 a batch",
    target: 180_000,
    below: true,
    unit: "gas",
  },
  chainTps: {
    row: "cross-chain tx/s the governance chain holds at 30M gas per 2 s",
    target: 80,
    below: false,
    unit: "tx/s",
  },
  throughputRatio: {
    row: "end-to-end throughput through the relayers, over the chain-bound path",
    target: 1.0,
    below: false,
    unit: "x",
  },
} as const;

export type TargetKey = keyof typeof TARGETS;

const shown = (n: number): string => n.toLocaleString("en-US", { maximumFractionDigits: n >= 100 ? 0 : 2 });

/** The table as printed (Markdown, so it can go into RUNTIME.md as it is). */
export function targetTable(measured: Partial<Record<TargetKey, number>>): string {
  const lines = ["| figure | measured | target | met |", "|---|---:|---:|---|"];
  for (const [key, t] of Object.entries(TARGETS) as [TargetKey, (typeof TARGETS)[TargetKey]][]) {
    const value = measured[key];
    const target = `${t.below ? "<=" : ">="} ${shown(t.target)} ${t.unit}`.trim();
    if (value === undefined || Number.isNaN(value)) {
      lines.push(`| ${t.row} | not measured in this run | ${target} | - |`);
      continue;
    }
    const met = t.below ? value <= t.target : value >= t.target;
    lines.push(`| ${t.row} | ${`${shown(value)} ${t.unit}`.trim()} | ${target} | ${met ? "yes" : "NO"} |`);
  }
  const [one, five, fifteen] = loadavg().map((l) => l.toFixed(1));
  lines.push("", `load average at the end of the run: ${one} / ${five} / ${fifteen} (1 / 5 / 15 min)`);
  return lines.join("\n");
}
