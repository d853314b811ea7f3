import type { GateResult } from "../gate";
import type { SlitherStatus } from "../slither";
import { SEVERITIES, type Finding, type Severity } from "../types";

export const REPORT_SCHEMA = "ccgp-audit-report/1";
export const TOOL_NAME = "ccgp-audit-sandbox";
export const TOOL_VERSION = "1.0.0";

/**
 * The report every writer renders. It holds no time, absolute path or duration, so the same input
 * gives the same bytes (and the same attestation hash).
 */
export interface AuditReport {
  schema: typeof REPORT_SCHEMA;
  tool: { name: string; version: string };
  /** Compiler versions used, comma-separated. */
  compiler: string;
  /** How the sources were compiled: the project found around the target, each file's compiler, what failed. */
  compilation: {
    project: { root: string; kind: string; marker: string };
    versions: Record<string, string>;
    /** Audited files that did not compile (the audit is partial when this is not empty). */
    failures: { file: string; message: string }[];
  };
  /** The audited path, relative to the audit root. */
  target: string;
  excluded: string[];
  files: string[];
  /** keccak256 of each audited file's bytes: the report (and its hash) names the exact code audited. */
  sourceHashes: Record<string, string>;
  slither: SlitherStatus;
  /** Built-in rule ids that ran. */
  rules: string[];
  gate: GateResult;
  summary: Record<Severity, { open: number; accepted: number }>;
  findings: Finding[];
}

export function summarise(findings: Finding[]): AuditReport["summary"] {
  const summary = Object.fromEntries(SEVERITIES.map((s) => [s, { open: 0, accepted: 0 }])) as AuditReport["summary"];
  for (const f of findings) summary[f.severity][f.status]++;
  return summary;
}

/** JSON with object keys sorted at every level, two-space indented, newline-terminated. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object")
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}
