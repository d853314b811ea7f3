/**
 * `npm run audit -- <path> [--fail-on high|medium|low|info|none] [--out <dir>] [--format md,sarif,json]`
 * Exit codes: 0 gate passed, 1 gate failed, 2 bad input (path, option, accepted file; no source compiled),
 * 3 internal error, 4 partial: the gate passed on what compiled but some files did not compile.
 * Progress goes to stderr; stdout holds the summary.
 */
import { relative } from "node:path";
import { Command, CommanderError } from "commander";
import { computeReportHash } from "./src/attestation";
import { parseFormats, runAudit, writeReports, type AuditResult } from "./src/audit";
import { AuditError, AuditInputError } from "./src/errors";
import { parseFailOn } from "./src/gate";
import { Progress } from "./src/progress";
import { SEVERITIES } from "./src/types";

export const EXIT = { passed: 0, failed: 1, badInput: 2, internal: 3, partial: 4 } as const;

interface CliOptions {
  failOn: string;
  out: string;
  format: string;
  exclude: string[];
  accepted?: string;
  slither: boolean;
  quiet?: boolean;
  root?: string;
  remap: string[];
}

function buildCommand(): Command {
  return new Command()
    .name("audit")
    .description(
      "CCGP-EVM audit sandbox: compile, run the built-in detectors and Slither, write reports, gate on severity.",
    )
    .argument("<path>", "a .sol file or a folder of Solidity sources")
    .option("--fail-on <severity>", "exit 1 when a finding is at or above: high, medium, low, info, none", "medium")
    .option("--out <dir>", "folder for the reports", "audit-report")
    .option("--format <list>", "comma-separated report formats: md, sarif, json", "md,sarif,json")
    .option(
      "--exclude <path>",
      "leave a file or folder out (repeatable)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option("--root <dir>", "project root imports are resolved in (default: detected around <path>)")
    .option(
      "--remap <prefix=target>",
      "an import remapping, target relative to the project root (repeatable)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option("--accepted <file>", "accepted-findings file (default: audit/accepted.json when present)")
    .option("--no-slither", "do not run Slither even when it is installed")
    .option("--quiet", "no progress on stderr")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
}

function printSummary(result: AuditResult, written: string[], hash: string): void {
  const { report, stats, unusedAccepted } = result;
  const open = report.findings.filter((f) => f.status === "open");
  const counts = SEVERITIES.map((s) => `${s} ${report.summary[s].open}`).join(", ");
  const accepted = report.findings.length - open.length;
  const lines = [
    `CCGP audit sandbox: ${report.target} (${stats.files} files, ${stats.importedFiles} imported), solc ` +
      `${report.compiler}`,
    report.slither.message,
    `Findings: ${counts}${accepted > 0 ? ` (+${accepted} accepted)` : ""}`,
    ...open.map((f) => `  [${f.severity}] ${f.id} ${f.file}:${f.line} ${f.title}`),
    ...report.compilation.failures.map((f) => `  [did not compile] ${f.file}: ${f.message.split("\n").join("\n    ")}`),
    ...unusedAccepted.map((e) => `  note: accepted entry for ${e.detector} in ${e.file} matched no finding`),
    ...(written.length > 0 ? [`Reports: ${written.map((p) => relative(process.cwd(), p)).join(", ")}`] : []),
    `Report hash (keccak256 of report.json): ${hash}`,
    report.gate.failOn === "none"
      ? "Gate: not enforced (--fail-on none)"
      : `Gate (--fail-on ${report.gate.failOn}): ` +
        (report.gate.passed
          ? "passed"
          : `FAILED, ${report.gate.blocking} open finding(s) at or above ${report.gate.failOn}`),
    ...(report.compilation.failures.length > 0
      ? [
          `PARTIAL: ${report.compilation.failures.length} of ${report.files.length} files did not compile and were ` +
            `not analysed`,
        ]
      : []),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** Runs the CLI and returns its exit code (no process.exit, so tests and other callers can use it). */
export async function main(argv: string[]): Promise<number> {
  const command = buildCommand();
  try {
    command.parse(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.passed : EXIT.badInput;
    throw err;
  }
  const opts = command.opts<CliOptions>();
  try {
    const failOn = parseFailOn(opts.failOn);
    const formats = parseFormats(opts.format);
    const result = await runAudit({
      target: command.args[0],
      exclude: opts.exclude,
      failOn,
      acceptedFile: opts.accepted,
      slither: opts.slither,
      projectRoot: opts.root,
      remap: opts.remap,
      progress: opts.quiet ? Progress.silent() : Progress.stderr(),
    });
    const written = writeReports(result.report, opts.out, formats);
    printSummary(result, written, computeReportHash(result.report));
    if (!result.report.gate.passed) return EXIT.failed;
    return result.report.compilation.failures.length > 0 ? EXIT.partial : EXIT.passed;
  } catch (err) {
    if (err instanceof AuditInputError) {
      process.stderr.write(`audit: error: ${err.message}\n`);
      return EXIT.badInput;
    }
    const message =
      err instanceof AuditError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`audit: internal error: ${message}\n`);
    return EXIT.internal;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`audit: internal error: ${String(err)}\n`);
      process.exitCode = EXIT.internal;
    },
  );
}
