import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Finding } from "../../../audit/src/types";
import { builtProcess } from "../../../scripts/build";

/** The repository root (tests run the sandbox with paths relative to it). */
export const ROOT = resolve(__dirname, "../../..");
export const FIXTURES = "audit/test/fixtures";
export const DETECTOR_FIXTURES = `${FIXTURES}/detectors`;

/** `rule@line` pairs a fixture declares with `// @expect <rule> [<rule> ...]` comments. */
export function expectedFindings(file: string): string[] {
  const out: string[] = [];
  readFileSync(join(ROOT, file), "utf8")
    .split("\n")
    .forEach((line, i) => {
      const m = /\/\/ @expect ([\w\- ]+)$/.exec(line.trim());
      if (m) for (const rule of m[1].trim().split(/\s+/)) out.push(`${rule}@${i + 1}`);
    });
  return out.sort();
}

/** `rule@line` pairs reported for one file. */
export function reportedFindings(findings: Finding[], file: string): string[] {
  return findings
    .filter((f) => f.file === file)
    .map((f) => `${f.detector}@${f.line}`)
    .sort();
}

/** Fixture files of one detector folder, split into positives and negatives. */
export function detectorFixtures(folder: string): { positive: string[]; negative: string[] } {
  const files = readdirSync(join(ROOT, DETECTOR_FIXTURES, folder)).filter((f) => f.endsWith(".sol"));
  const path = (f: string): string => `${DETECTOR_FIXTURES}/${folder}/${f}`;
  return {
    positive: files.filter((f) => f.startsWith("Positive")).map(path),
    negative: files.filter((f) => f.startsWith("Negative")).map(path),
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `ccgp-audit-${prefix}-`));
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `audit/cli.ts` in a child process from the repository root (its build in dist/, built first if it is not current). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): CliRun {
  const res = spawnSync(process.execPath, [...builtProcess("audit"), ...args], {
    cwd: ROOT,
    env,
    encoding: "utf8",
    timeout: 400_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** A PATH on which `slither` cannot be found: only the folder of the node binary. */
export function pathWithoutSlither(): string {
  return dirname(process.execPath);
}

/** runAudit options under which no Slither is found (neither on PATH nor in the project's venv). */
export const NO_SLITHER = { pathEnv: pathWithoutSlither(), slitherVenv: "/nonexistent-venv" } as const;

/** A child-process environment under which the CLI finds no Slither. */
export function envWithoutSlither(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: pathWithoutSlither(), CCGP_SLITHER: "/nonexistent-venv/bin/slither" };
}
