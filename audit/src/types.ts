/** Severities from the most to the least serious; the gate compares positions in this list. */
export const SEVERITIES = ["high", "medium", "low", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Where a finding came from. */
export type FindingSource = "builtin" | "slither";

/** One finding before ids, dedupe and acceptance are applied. */
export interface RawFinding {
  /** Rule id, e.g. `reentrancy` (built-in) or the Slither check name, e.g. `reentrancy-eth`. */
  detector: string;
  severity: Severity;
  /** Path relative to the audit root, with forward slashes. */
  file: string;
  line: number;
  /** `Contract.function` when known. */
  function?: string;
  title: string;
  description: string;
  recommendation: string;
  source: FindingSource;
  /** Other lines (same file) the finding covers; used only to match Slither and built-in findings. */
  relatedLines?: number[];
}

/** A finding as it appears in the report. */
export interface Finding extends RawFinding {
  /** Stable id: `CCGP-<detector>-<8 hex of sha256(file:line:detector)>`. */
  id: string;
  status: "open" | "accepted";
  justification?: string;
  /** Other tools' rules that reported the same issue at the same place (after dedupe). */
  alsoReportedBy?: string[];
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** The more serious of two severities. */
export function maxSeverity(a: Severity, b: Severity): Severity {
  return severityRank(a) <= severityRank(b) ? a : b;
}

export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}
