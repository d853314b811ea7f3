import { spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, relative, resolve, sep } from "node:path";
import { z } from "zod";
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

/** Absolute path of the first executable `slither` on PATH, or undefined. */
export function findSlither(pathEnv = process.env.PATH ?? ""): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "slither");
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this PATH entry
    }
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
    recommendation: `See Slither's documentation of the \`${d.check}\` detector (confidence: ${d.confidence ?? "unknown"}).`,
    source: "slither",
    relatedLines: [...new Set(related)].sort((a, b) => a - b),
  };
}

/** Runs `slither <target> --json -` in `cwd` and returns its parsed findings; never throws for a Slither failure. */
export async function runSlither(opts: {
  target: string;
  cwd: string;
  root: string;
  pathEnv?: string;
  timeoutMs?: number;
}): Promise<{ status: SlitherStatus; findings: RawFinding[] }> {
  const exe = findSlither(opts.pathEnv);
  if (!exe)
    return {
      status: { status: "not-installed", message: "Slither: not installed (not run)", findings: 0 },
      findings: [],
    };
  try {
    const { stdout, stderr } = await spawnCollect(
      exe,
      [opts.target, "--json", "-"],
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
