import { BUILTIN_RULES } from "../detectors";
import type { Finding, Severity } from "../types";
import { TOOL_NAME, TOOL_VERSION, type AuditReport } from "./model";

const LEVEL: Record<Severity, "error" | "warning" | "note"> = {
  high: "error",
  medium: "warning",
  low: "note",
  info: "note",
};
/** GitHub code scanning reads `security-severity` (0-10) to rank results. */
const SECURITY_SEVERITY: Record<Severity, string> = { high: "8.0", medium: "5.5", low: "3.0", info: "1.0" };

interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  help: { text: string };
  defaultConfiguration: { level: string };
  properties: Record<string, unknown>;
}

function ruleFor(id: string, sample: Finding | undefined): SarifRule {
  const builtin = BUILTIN_RULES.get(id);
  const severity = builtin?.severity ?? sample?.severity ?? "info";
  return {
    id,
    name: id,
    shortDescription: { text: builtin?.title ?? sample?.title ?? id },
    fullDescription: { text: builtin?.summary ?? sample?.title ?? id },
    help: { text: builtin?.recommendation ?? sample?.recommendation ?? "" },
    defaultConfiguration: { level: LEVEL[severity] },
    properties: {
      "security-severity": SECURITY_SEVERITY[severity],
      source: builtin ? "builtin" : "slither",
      tags: ["security"],
    },
  };
}

/** SARIF 2.1.0: one run, every built-in rule plus the Slither checks seen; accepted findings as suppressions. */
export function renderSarif(report: AuditReport): string {
  const ruleIds = [
    ...report.rules,
    ...new Set(report.findings.map((f) => f.detector).filter((d) => !report.rules.includes(d))),
  ];
  const rules = ruleIds.map((id) =>
    ruleFor(
      id,
      report.findings.find((f) => f.detector === id),
    ),
  );
  const results = report.findings.map((f) => ({
    ruleId: f.detector,
    ruleIndex: ruleIds.indexOf(f.detector),
    level: LEVEL[f.severity],
    message: { text: `${f.description} ${f.recommendation}` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: f.file, uriBaseId: "%SRCROOT%" },
          region: { startLine: Math.max(1, f.line) },
        },
        ...(f.function ? { logicalLocations: [{ fullyQualifiedName: f.function, kind: "function" }] } : {}),
      },
    ],
    partialFingerprints: { "ccgpFindingId/v1": f.id },
    properties: {
      id: f.id,
      severity: f.severity,
      source: f.source,
      ...(f.alsoReportedBy ? { alsoReportedBy: f.alsoReportedBy } : {}),
    },
    ...(f.status === "accepted"
      ? { suppressions: [{ kind: "external", status: "accepted", justification: f.justification }] }
      : {}),
  }));
  const sarif = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: TOOL_NAME, version: TOOL_VERSION, semanticVersion: TOOL_VERSION, rules } },
        invocations: [
          { executionSuccessful: true, properties: { slither: report.slither.message, gate: report.gate } },
        ],
        results,
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
