import { runAudit } from "../audit/src/audit";
import { DETECTORS } from "../audit/src/detectors";
import { AuditInputError } from "../audit/src/errors";
import { SEVERITIES } from "../audit/src/types";
import type { BenchModule, Reporter } from "./lib/report";

/**
 * Targets timed: the project's own contracts (as the CI gate audits them) and OpenZeppelin's governance
 * folder, each with its wall-time target: at most twice the figure measured before per-pragma compilers,
 * project detection and the recall rules (about 5 s and 4.5 s).
 */
const TARGETS: { label: string; target: string; exclude: string[]; targetMs: number }[] = [
  { label: "contracts/", target: "contracts", exclude: ["contracts/mocks"], targetMs: 10_000 },
  {
    label: "OpenZeppelin governance/",
    target: "node_modules/@openzeppelin/contracts/governance",
    exclude: [],
    targetMs: 9_000,
  },
];

async function measure(
  report: Reporter,
  { label, target, exclude, targetMs }: (typeof TARGETS)[number],
): Promise<void> {
  const started = process.hrtime.bigint();
  try {
    const { report: audit, stats } = await runAudit({ target, exclude, slither: false, failOn: "none" });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    report.figure(`${label} wall time (compile + ${DETECTORS.length} detectors)`, ms, "ms");
    report.figure(
      `${label} wall time within target (${targetMs.toLocaleString("en-US")} ms)`,
      ms <= targetMs ? "yes" : "NO",
    );
    report.figure(`${label} compile`, stats.compileMs, "ms");
    report.figure(`${label} detectors`, stats.detectorsMs, "ms");
    report.figure(`${label} files audited / imported`, `${stats.files} / ${stats.importedFiles}`);
    report.figure(`${label} findings (high/medium/low/info)`, SEVERITIES.map((s) => audit.summary[s].open).join("/"));
  } catch (err) {
    // The project's contracts/ may hold no sources yet; say so rather than fail the whole bench.
    if (err instanceof AuditInputError) report.figure(`${label} not audited`, err.shortMessage);
    else throw err;
  }
}

/** Wall time of the audit sandbox (Slither off: it is not installed here and would dominate). */
export const auditSandbox: BenchModule = {
  name: "audit-sandbox",
  kind: "perf",
  async run(report) {
    for (const t of TARGETS) await measure(report, t);
  },
};
