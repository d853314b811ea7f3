import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { keccak256 } from "viem";
import { join, resolve } from "node:path";
import { applyAccepted, loadAccepted, type AcceptedEntry } from "./accepted";
import { compileSources, type CompileResult } from "./compile";
import { dedupeFindings } from "./dedupe";
import { BUILTIN_RULES, DETECTORS } from "./detectors";
import { AuditInputError } from "./errors";
import { Facts } from "./facts";
import { evaluateGate, type FailOn } from "./gate";
import { Program } from "./program";
import { detectProject, isInside } from "./project";
import { Progress } from "./progress";
import { renderJson } from "./report/json";
import { renderMarkdown } from "./report/markdown";
import { REPORT_SCHEMA, TOOL_NAME, TOOL_VERSION, summarise, type AuditReport } from "./report/model";
import { renderSarif } from "./report/sarif";
import { runSlither, type SlitherStatus } from "./slither";
import { collectSolidityFiles, toReportPath } from "./sources";
import type { RawFinding } from "./types";

export const DEFAULT_ACCEPTED_FILE = "audit/accepted.json";

export interface AuditOptions {
  /** A .sol file or a folder. */
  target: string;
  /** Paths in reports are relative to it; Slither runs in it. Default: the current directory. */
  root?: string;
  /** Paths (files or folders) left out of the audit, e.g. `contracts/mocks`. */
  exclude?: string[];
  /** Default: medium. */
  failOn?: FailOn;
  /** Accepted-findings file. Default: audit/accepted.json under root, if it exists. */
  acceptedFile?: string;
  /** Run Slither when it is on PATH. Default: true. */
  slither?: boolean;
  /** PATH used to look for Slither. Default: process.env.PATH. */
  pathEnv?: string;
  /** The virtual environment looked in first (default: the project's .venv-slither). */
  slitherVenv?: string;
  progress?: Progress;
  /** The project root imports are resolved in (default: detected around the target). */
  projectRoot?: string;
  /** Extra remappings `prefix=target` (target relative to the project root), after the project's own. */
  remap?: string[];
  /** Audited files per solc run (see MAX_FILES_PER_RUN); lower only to test the merge of runs. */
  maxFilesPerRun?: number;
}

export interface AuditResult {
  report: AuditReport;
  /** Accepted entries that matched no finding (stale). */
  unusedAccepted: AcceptedEntry[];
  stats: { files: number; importedFiles: number; compileMs: number; detectorsMs: number; slitherMs: number };
}

/** Compiles the target, runs the built-in detectors and Slither, dedupes, applies accepted findings and the gate. */
export async function runAudit(opts: AuditOptions): Promise<AuditResult> {
  const cwd = process.cwd();
  const absTarget = resolve(opts.root ?? cwd, opts.target);
  if (!existsSync(absTarget)) throw new AuditInputError(`path does not exist: ${opts.target}`);
  const project = detectProject(absTarget, {
    root: opts.projectRoot && resolve(opts.root ?? cwd, opts.projectRoot),
    remap: opts.remap,
  });
  // Reports name files relative to the current folder, or to the project when the target lies outside it.
  const root = resolve(opts.root ?? (isInside(absTarget, cwd) ? cwd : project.root));
  const progress = opts.progress ?? Progress.silent();
  const failOn = opts.failOn ?? "medium";
  const { files } = collectSolidityFiles(
    absTarget,
    root,
    (opts.exclude ?? []).map((e) => resolve(opts.root ?? cwd, e)),
    opts.target,
  );
  // Read the accepted file first: a bad entry should fail before a long compile.
  const acceptedPath = opts.acceptedFile ?? DEFAULT_ACCEPTED_FILE;
  const accepted = loadAccepted(acceptedPath, root, opts.acceptedFile !== undefined);
  progress.phase(`found ${files.length} Solidity file${files.length === 1 ? "" : "s"} in ${opts.target}`);

  progress.phase(`project: ${project.root} (${project.kind}, found by ${project.marker})`);
  let t = Date.now();
  const compiled = compileSources(files, root, progress, opts.maxFilesPerRun, project);
  const compileMs = Date.now() - t;

  // Slither runs in its own process: started first, it analyses while the built-in detectors run here.
  const slitherStarted = Date.now();
  const slitherRun = slitherStep(opts, root, progress, compiled).then((r) => ({
    ...r,
    ms: Date.now() - slitherStarted,
  }));
  slitherRun.catch(() => undefined);

  t = Date.now();
  const ctx = { program: new Program(compiled.units), facts: undefined as unknown as Facts };
  ctx.facts = new Facts(ctx.program);
  const builtin: RawFinding[] = [];
  DETECTORS.forEach((d, i) => {
    progress.phase(`detector ${i + 1}/${DETECTORS.length} ${d.name}`);
    builtin.push(...d.run(ctx));
  });
  const detectorsMs = Date.now() - t;

  const slither = await slitherRun;
  const slitherMs = slither.ms;

  // Slither also reports on imported files (dependencies); only the audited files are the author's.
  const audited = new Set(files.map((f) => toReportPath(root, f)));
  const findings = dedupeFindings(
    builtin,
    slither.findings.filter((f) => audited.has(f.file)),
  );
  const unusedAccepted = applyAccepted(findings, accepted);
  const report: AuditReport = {
    schema: REPORT_SCHEMA,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    compiler: compiled.solcVersion,
    compilation: {
      project: { root: toReportPath(root, project.root), kind: project.kind, marker: project.marker },
      versions: compiled.versions,
      failures: compiled.failures,
    },
    target: toReportPath(root, absTarget) || ".",
    excluded: (opts.exclude ?? []).map((e) => toReportPath(root, resolve(root, e))),
    files: files.map((f) => toReportPath(root, f)),
    sourceHashes: Object.fromEntries(
      files.map((f) => [toReportPath(root, f), keccak256(new Uint8Array(readFileSync(f)))]),
    ),
    slither: slither.status,
    rules: [...BUILTIN_RULES.keys()],
    gate: evaluateGate(findings, failOn),
    summary: summarise(findings),
    findings,
  };
  const stats = { files: files.length, importedFiles: compiled.importedFiles, compileMs, detectorsMs, slitherMs };
  return { report, unusedAccepted, stats };
}

async function slitherStep(
  opts: AuditOptions,
  root: string,
  progress: Progress,
  compiled: CompileResult,
): Promise<{ status: SlitherStatus; findings: RawFinding[] }> {
  if (opts.slither === false)
    return { status: { status: "disabled", message: "Slither: disabled (--no-slither)", findings: 0 }, findings: [] };
  progress.phase("running Slither on the sandbox's compilation (if installed)");
  const result = await runSlither({
    runs: compiled.runs,
    cwd: root,
    root,
    pathEnv: opts.pathEnv,
    venv: opts.slitherVenv,
  });
  if (result.status.status === "not-installed") progress.phase(result.status.message);
  return result;
}

export type ReportFormat = "md" | "sarif" | "json";
export const REPORT_FORMATS: readonly ReportFormat[] = ["md", "sarif", "json"];
const FILE_NAMES: Record<ReportFormat, string> = { md: "report.md", sarif: "report.sarif", json: "report.json" };

export function parseFormats(value: string): ReportFormat[] {
  const formats = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = formats.filter((f) => !(REPORT_FORMATS as readonly string[]).includes(f));
  if (bad.length > 0 || formats.length === 0)
    throw new AuditInputError(`--format takes a comma-separated list of md, sarif, json (got "${value}")`);
  return [...new Set(formats)] as ReportFormat[];
}

/** Writes the report in each format to `outDir`; returns the written paths. */
export function writeReports(
  report: AuditReport,
  outDir: string,
  formats: readonly ReportFormat[] = REPORT_FORMATS,
): string[] {
  if (!existsSync(outDir)) mkdirSync(outDir, { recursive: true });
  const render = { md: renderMarkdown, sarif: renderSarif, json: renderJson };
  return formats.map((f) => {
    const path = join(outDir, FILE_NAMES[f]);
    writeFileSync(path, render[f](report));
    return path;
  });
}
