import { createHash } from "node:crypto";
import { maxSeverity, type Finding, type RawFinding } from "./types";

/** Equivalence classes shared by built-in rules and Slither checks, for dedupe. */
const CATEGORY: Record<string, string> = {
  // built-in rules
  reentrancy: "reentrancy",
  "unprotected-state-change": "access-control",
  "tx-origin": "tx-origin",
  "controlled-delegatecall": "delegatecall",
  "unchecked-call": "unchecked-call",
  "unchecked-transfer": "unchecked-transfer",
  "arbitrary-send": "arbitrary-send",
  "arbitrary-call": "arbitrary-call",
  "signature-replay": "signature",
  "signature-replay-domain": "signature",
  "ecrecover-zero": "ecrecover-zero",
  "signature-malleability": "signature",
  selfdestruct: "selfdestruct",
  "unprotected-initializer": "unprotected-upgrade",
  "unprotected-upgrade": "unprotected-upgrade",
  "uninitialized-implementation": "unprotected-upgrade",
  "weak-randomness": "weak-prng",
  "encode-packed-collision": "encode-packed",
  "unbounded-loop": "loop",
  // Slither checks (controlled-delegatecall, encode-packed-collision and unprotected-upgrade share the built-in names)
  "reentrancy-eth": "reentrancy",
  "reentrancy-no-eth": "reentrancy",
  "reentrancy-benign": "reentrancy",
  "reentrancy-events": "reentrancy",
  "reentrancy-unlimited-gas": "reentrancy",
  "arbitrary-send-eth": "arbitrary-send",
  "arbitrary-send-erc20": "arbitrary-send",
  "arbitrary-send-erc20-permit": "arbitrary-send",
  "delegatecall-loop": "delegatecall",
  "unchecked-lowlevel": "unchecked-call",
  "unchecked-send": "unchecked-call",
  suicidal: "selfdestruct",
  "weak-prng": "weak-prng",
  "costly-loop": "loop",
  "calls-loop": "loop",
};

/** The category of a rule or Slither check (itself when it has no equivalent). */
export function categoryOf(detector: string): string {
  return CATEGORY[detector] ?? detector;
}

/** Stable id: the same file, line and rule always give the same id. */
export function findingId(f: Pick<RawFinding, "file" | "line" | "detector">): string {
  const hash = createHash("sha256").update(`${f.file}:${f.line}:${f.detector}`).digest("hex").slice(0, 8);
  return `CCGP-${f.detector}-${hash}`;
}

function sameIssue(builtin: RawFinding, slither: RawFinding): boolean {
  if (builtin.file !== slither.file || categoryOf(builtin.detector) !== categoryOf(slither.detector)) return false;
  return builtin.line === slither.line || (slither.relatedLines ?? []).includes(builtin.line);
}

/**
 * Merges findings: repeated built-in findings with the same id become one, and a Slither finding of
 * an equivalent category at the same file and line is folded into the built-in one (which keeps the
 * more serious severity and lists the Slither check in `alsoReportedBy`). Sorted by file, line, rule.
 */
export function dedupeFindings(builtin: RawFinding[], slither: RawFinding[]): Finding[] {
  const byId = new Map<string, Finding>();
  for (const raw of builtin) {
    const id = findingId(raw);
    const seen = byId.get(id);
    if (seen) seen.severity = maxSeverity(seen.severity, raw.severity);
    else byId.set(id, { ...raw, id, status: "open" });
  }
  const merged = [...byId.values()];
  for (const raw of slither) {
    // A built-in finding of the same class and place first, else a Slither one (reentrancy-eth and -events at one
    // write).
    const twin =
      merged.find((b) => b.source === "builtin" && sameIssue(b, raw)) ??
      merged.find(
        (b) =>
          b.source === "slither" &&
          b.detector !== raw.detector &&
          b.file === raw.file &&
          b.line === raw.line &&
          categoryOf(b.detector) === categoryOf(raw.detector) &&
          categoryOf(raw.detector) !== raw.detector,
      );
    if (twin) {
      twin.severity = maxSeverity(twin.severity, raw.severity);
      twin.alsoReportedBy = [...new Set([...(twin.alsoReportedBy ?? []), `slither:${raw.detector}`])].sort();
      continue;
    }
    const id = findingId(raw);
    if (!merged.some((m) => m.id === id)) merged.push({ ...raw, id, status: "open" });
  }
  for (const f of merged) delete f.relatedLines;
  return merged.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.detector.localeCompare(b.detector));
}
