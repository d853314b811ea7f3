/**
 * `npm run chaos -- [--tx 1000] [--seed 1] [--fuzz 100000] [--out chaos-report]`: the chaos run on a fresh local
 * consortium; writes report.json, report.md and states.svg to --out and exits 1 if any check failed.
 */
import { resolve } from "node:path";
import { runChaos } from "./harness";
import { writeReport } from "./report";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const transactions = Number(arg("tx", "1000"));
  const seed = Number(arg("seed", "1"));
  const fuzzRequests = Number(arg("fuzz", "100000"));
  const out = resolve(arg("out", "chaos-report"));
  const t0 = Date.now();
  const log = (line: string) => console.log(`[chaos ${Math.round((Date.now() - t0) / 1000)}s] ${line}`);
  const report = await runChaos({ transactions, seed, fuzzRequests, log });
  writeReport(out, report);
  log(`${report.passed ? "PASSED" : "FAILED"}: report in ${out}/report.md`);
  if (!report.passed) for (const f of report.failures) log(`failure: ${f}`);
  process.exit(report.passed ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
