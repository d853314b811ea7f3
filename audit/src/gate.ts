import { AuditInputError } from "./errors";
import { isSeverity, severityRank, type Finding, type Severity } from "./types";

export type FailOn = Severity | "none";

export function parseFailOn(value: string): FailOn {
  if (value === "none" || isSeverity(value)) return value;
  throw new AuditInputError(`--fail-on must be one of high, medium, low, info, none (got "${value}")`);
}

export interface GateResult {
  failOn: FailOn;
  passed: boolean;
  /** Open (not accepted) findings at or above the threshold. */
  blocking: number;
}

/** The gate fails when an open finding is at or above `failOn`; accepted findings never block. */
export function evaluateGate(findings: Finding[], failOn: FailOn): GateResult {
  if (failOn === "none") return { failOn, passed: true, blocking: 0 };
  const blocking = findings.filter(
    (f) => f.status === "open" && severityRank(f.severity) <= severityRank(failOn),
  ).length;
  return { failOn, passed: blocking === 0, blocking };
}
