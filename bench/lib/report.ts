import { readFileSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { targetTable, type TargetKey } from "./targets";

/** Gas figures that go into the committed snapshot; other figures are printed only. */
export interface Reporter {
  /** A gas figure kept in `snapshots/gas.json` and compared in CI. */
  gas(name: string, value: bigint | number): void;
  /** Any other measured figure (throughput, latency, ratios): printed, never asserted. */
  figure(name: string, value: number | string, unit?: string): void;
  /** A section heading in the printed output. */
  section(title: string): void;
  /** A figure of the efficiency table (bench/lib/targets.ts), printed with the whole table at the end. */
  target(key: TargetKey, value: number): void;
}

/** A benchmark module: `gas` modules are deterministic and feed the snapshot; `perf` ones only print. */
export interface BenchModule {
  name: string;
  kind: "gas" | "perf";
  run(report: Reporter): Promise<void>;
}

export const SNAPSHOT_PATH = "snapshots/gas.json";

export class ConsoleReporter implements Reporter {
  readonly gasFigures: Record<string, number> = {};

  gas(name: string, value: bigint | number): void {
    const n = Number(value);
    this.gasFigures[name] = n;
    console.log(`  ${name.padEnd(64)} ${n.toLocaleString("en-US").padStart(12)} gas`);
  }

  figure(name: string, value: number | string, unit = ""): void {
    const shown = typeof value === "number" ? value.toLocaleString("en-US", { maximumFractionDigits: 3 }) : value;
    console.log(`  ${name.padEnd(64)} ${String(shown).padStart(12)} ${unit}`);
  }

  section(title: string): void {
    console.log(`\n== ${title}`);
  }

  readonly targets: Partial<Record<TargetKey, number>> = {};

  target(key: TargetKey, value: number): void {
    this.targets[key] = value;
  }

  /** The efficiency table, every row, from this run's figures. */
  printTargets(): void {
    console.log(`\n== the efficiency table (figure vs target)\n${targetTable(this.targets)}`);
  }
}

export function readSnapshot(path = SNAPSHOT_PATH): Record<string, number> {
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, number>) : {};
}

export function writeSnapshot(figures: Record<string, number>, path = SNAPSHOT_PATH): void {
  mkdirSync(dirname(path), { recursive: true });
  const sorted = Object.fromEntries(Object.entries(figures).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(path, JSON.stringify(sorted, null, 2) + "\n");
}

/** Returns one line per figure that rose more than `tolerance` (a fraction) above the snapshot, or is missing. */
export function compareSnapshot(
  current: Record<string, number>,
  snapshot: Record<string, number>,
  tolerance = 0.02,
): string[] {
  const problems: string[] = [];
  for (const [name, before] of Object.entries(snapshot)) {
    const now = current[name];
    if (now === undefined) problems.push(`${name}: in the snapshot but no longer measured`);
    else if (now > before * (1 + tolerance))
      problems.push(`${name}: ${now} gas, up ${(((now - before) / before) * 100).toFixed(2)}% from ${before}`);
  }
  for (const name of Object.keys(current))
    if (!(name in snapshot)) problems.push(`${name}: measured but not in the snapshot (run npm run gas:snapshot)`);
  return problems;
}
