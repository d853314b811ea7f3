import { spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute, join, relative, resolve, sep } from "node:path";
import { z } from "zod";
import { walk, type AstNode } from "./ast";
import type { CompileRun } from "./compile";
import { AuditError } from "./errors";
import type { RawFinding, Severity } from "./types";

/** What happened to Slither in this run; `message` is the line printed in reports. */
export interface SlitherStatus {
  status: "not-installed" | "disabled" | "ran" | "failed";
  message: string;
  findings: number;
}

const elementSchema = z.object({
  type: z.string().optional(),
  name: z.string().optional(),
  source_mapping: z
    .object({
      filename_relative: z.string().optional(),
      filename_absolute: z.string().optional(),
      lines: z.array(z.number()).default([]),
      is_dependency: z.boolean().optional(),
    })
    .optional(),
  type_specific_fields: z.unknown().optional(),
});

const detectorSchema = z.object({
  check: z.string(),
  impact: z.string(),
  confidence: z.string().optional(),
  description: z.string(),
  elements: z.array(elementSchema).default([]),
  first_markdown_element: z.string().optional(),
  id: z.string().optional(),
});

/** Slither's `--json` output: {"success", "error", "results": {"detectors": [...]}}. */
const outputSchema = z.object({
  success: z.boolean(),
  error: z.string().nullable().optional(),
  results: z
    .object({ detectors: z.array(detectorSchema).default([]) })
    .partial()
    .default({}),
});

export type SlitherDetectorResult = z.infer<typeof detectorSchema>;

const IMPACT: Record<string, Severity> = {
  High: "high",
  Medium: "medium",
  Low: "low",
  Informational: "info",
  Optimization: "info",
};

/** The virtual environment `scripts/setup-slither.sh` installs the pinned Slither into. */
export const SLITHER_VENV = resolve(__dirname, "../../.venv-slither");

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Slither to run: $CCGP_SLITHER, else the project's venv (`npm run setup:slither`), else the
 * first `slither` on PATH; undefined when there is none.
 */
export function findSlither(pathEnv = process.env.PATH ?? "", venv = SLITHER_VENV): string | undefined {
  const explicit = process.env.CCGP_SLITHER;
  if (explicit) return isExecutable(explicit) ? explicit : undefined;
  const own = join(venv, process.platform === "win32" ? "Scripts/slither.exe" : "bin/slither");
  if (isExecutable(own)) return own;
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "slither");
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** A Slither source path (relative to where it ran, or absolute) relative to the audit root. */
function normalisePath(file: string, cwd: string, root: string): string {
  const abs = isAbsolute(file) ? file : resolve(cwd, file);
  return relative(root, abs).split(sep).join("/");
}

/**
 * Parses Slither's JSON output into findings. Throws AuditError when the text is not Slither JSON
 * or Slither reported `success: false`. Results located only in dependencies are dropped.
 */
export function parseSlitherJson(text: string, opts: { cwd: string; root: string }): RawFinding[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new AuditError("Slither output is not JSON", { details: text.slice(0, 300), cause });
  }
  const parsed = outputSchema.safeParse(json);
  if (!parsed.success)
    throw new AuditError("Slither output does not match its JSON format", { details: parsed.error.message });
  if (!parsed.data.success) throw new AuditError(`Slither failed: ${parsed.data.error ?? "no error message"}`);
  const findings: RawFinding[] = [];
  for (const d of parsed.data.results.detectors ?? []) {
    const f = toFinding(d, opts);
    if (f) findings.push(f);
  }
  return findings;
}

function toFinding(d: SlitherDetectorResult, opts: { cwd: string; root: string }): RawFinding | undefined {
  const located = d.elements.filter((e) => e.source_mapping?.filename_relative || e.source_mapping?.filename_absolute);
  const own = located.filter((e) => !e.source_mapping!.is_dependency);
  // Prefer the statement-level element (a node), which points at the exact line.
  const primary = own.find((e) => e.type === "node") ?? own[0];
  if (!primary) return undefined;
  const sm = primary.source_mapping!;
  const file = normalisePath(sm.filename_relative ?? sm.filename_absolute!, opts.cwd, opts.root);
  const related = own
    .filter(
      (e) =>
        normalisePath(
          e.source_mapping!.filename_relative ?? e.source_mapping!.filename_absolute!,
          opts.cwd,
          opts.root,
        ) === file,
    )
    .flatMap((e) => e.source_mapping!.lines);
  const fnElement = own.find((e) => e.type === "function");
  const contract = (fnElement?.type_specific_fields as { parent?: { name?: string } } | undefined)?.parent?.name;
  return {
    detector: d.check,
    severity: IMPACT[d.impact] ?? "info",
    file,
    line: sm.lines[0] ?? 0,
    ...(fnElement?.name ? { function: contract ? `${contract}.${fnElement.name}` : fnElement.name } : {}),
    title: `Slither: ${d.check}`,
    description: d.description
      .trim()
      .replace(/\s*\n\s*/g, " ")
      .slice(0, 1000),
    recommendation:
      `See Slither's documentation of the \`${d.check}\` detector (confidence: ` + `${d.confidence ?? "unknown"}).`,
    source: "slither",
    relatedLines: [...new Set(related)].sort((a, b) => a - b),
  };
}

/**
 * Writes the sandbox's compilation as a Hardhat build-info folder (`<dir>/artifacts/build-info/<n>.json`,
 * one file per solc run) that crytic-compile reads with `--hardhat-ignore-compile`: Slither analyses
 * exactly what the sandbox compiled and never needs a compiler of its own. Unit names become absolute
 * paths (in the sources and in every `absolutePath` of the ASTs) so that Slither finds each file.
 */
export function writeBuildInfo(runs: CompileRun[], dir: string): void {
  const out = join(dir, "artifacts", "build-info");
  mkdirSync(out, { recursive: true });
  // crytic-compile only looks for a Hardhat project when asked to; the config marks the folder as one.
  writeFileSync(join(dir, "hardhat.config.js"), "module.exports = {};\n");
  runs.forEach((run, i) => {
    const abs = (unit: string): string => run.paths[unit] ?? unit;
    const sources: Record<string, { id: number; ast: AstNode }> = {};
    for (const [unit, s] of Object.entries(run.output.sources)) {
      const ast = structuredClone(s.ast);
      walk(ast, (n) => {
        const node = n as AstNode & { absolutePath?: string };
        if (typeof node.absolutePath === "string") node.absolutePath = abs(node.absolutePath);
      });
      sources[abs(unit)] = { id: s.id, ast };
    }
    const input = {
      ...run.input,
      sources: Object.fromEntries(Object.entries(run.input.sources).map(([u, c]) => [abs(u), c])),
    };
    const buildInfo = {
      _format: "hh-sol-build-info-1",
      id: `ccgp-${i}`,
      solcVersion: run.solcVersion,
      solcLongVersion: run.solcLongVersion,
      input,
      output: { sources, contracts: {} },
    };
    writeFileSync(join(out, `ccgp-${String(i).padStart(3, "0")}.json`), JSON.stringify(buildInfo));
  });
}

/**
 * Runs Slither on the sandbox's compilation (see writeBuildInfo) and returns its parsed findings;
 * never throws for a Slither failure (the status says what happened).
 */
export async function runSlither(opts: {
  runs: CompileRun[];
  cwd: string;
  root: string;
  pathEnv?: string;
  venv?: string;
  timeoutMs?: number;
}): Promise<{ status: SlitherStatus; findings: RawFinding[] }> {
  const exe = findSlither(opts.pathEnv, opts.venv);
  if (!exe)
    return {
      status: {
        status: "not-installed",
        message: "Slither: not installed (not run; `npm run setup:slither` installs it)",
        findings: 0,
      },
      findings: [],
    };
  if (opts.runs.length === 0)
    return { status: { status: "ran", message: "Slither: nothing compiled to analyse", findings: 0 }, findings: [] };
  const work = mkdtempSync(join(tmpdir(), "ccgp-slither-"));
  try {
    writeBuildInfo(opts.runs, work);
    const { stdout, stderr } = await spawnCollect(
      exe,
      [work, "--compile-force-framework", "hardhat", "--hardhat-ignore-compile", "--disable-color", "--json", "-"],
      // Run in the audit root: the paths in Slither's descriptions are then relative to it, as in the reports.
      opts.cwd,
      opts.timeoutMs ?? 600_000,
    );
    if (stdout.trim() === "") throw new AuditError("Slither printed no JSON", { details: stderr.slice(-500) });
    const findings = parseSlitherJson(stdout, opts);
    return {
      status: { status: "ran", message: `Slither: ran (${findings.length} findings)`, findings: findings.length },
      findings,
    };
  } catch (err) {
    const reason = err instanceof AuditError ? err.shortMessage : String(err);
    return { status: { status: "failed", message: `Slither: failed (${reason})`, findings: 0 }, findings: [] };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Spawns a process and collects its output. Slither exits non-zero when it has findings, so the code is not judged. */
function spawnCollect(
  exe: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(exe, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => (clearTimeout(timer), reject(new AuditError(`could not start ${exe}`, { cause: e }))));
    child.on("close", (_code, signal) => {
      clearTimeout(timer);
      if (signal) return reject(new AuditError(`Slither was stopped by ${signal} (timeout ${timeoutMs} ms)`));
      resolvePromise({ stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
  });
}
