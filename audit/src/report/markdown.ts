import { DETECTORS } from "../detectors";
import { SEVERITIES, type Finding } from "../types";
import type { AuditReport } from "./model";

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function findingBlock(f: Finding): string[] {
  const lines = [
    `#### ${f.id}: ${f.title}`,
    "",
    `- **Severity:** ${f.severity}`,
    `- **Location:** \`${f.file}:${f.line}\`${f.function ? ` in \`${f.function}\`` : ""}`,
    `- **Detector:** \`${f.detector}\` ` +
      `(${f.source}${f.alsoReportedBy ? `; also reported by ${f.alsoReportedBy.join(", ")}` : ""})`,
    `- **Description:** ${f.description}`,
    `- **Recommendation:** ${f.recommendation}`,
  ];
  if (f.status === "accepted") lines.push(`- **Accepted:** ${f.justification}`);
  lines.push("");
  return lines;
}

/** The report for people: context, a summary table by severity, then each finding. */
export function renderMarkdown(report: AuditReport): string {
  const { gate } = report;
  const open = report.findings.filter((f) => f.status === "open");
  const accepted = report.findings.filter((f) => f.status === "accepted");
  const verdict =
    gate.failOn === "none"
      ? "not enforced (`--fail-on none`)"
      : gate.passed
        ? "**passed**"
        : `**FAILED** (${gate.blocking} open finding(s) at or above ${gate.failOn})`;
  const out = [
    "# CCGP audit sandbox report",
    "",
    `- **Target:** \`${report.target}\` (${report.files.length} file${report.files.length === 1 ? "" : "s"})`,
    ...(report.excluded.length > 0 ? [`- **Excluded:** ${report.excluded.map((e) => `\`${e}\``).join(", ")}`] : []),
    `- **Compiler:** solc ${report.compiler}`,
    `- **Project:** \`${report.compilation.project.root || "."}\` (${report.compilation.project.kind}, found by ` +
      `${report.compilation.project.marker})`,
    ...(report.compilation.failures.length > 0
      ? [`- **PARTIAL:** ${report.compilation.failures.length} file(s) did not compile and were not analysed (below)`]
      : []),
    `- **Built-in detectors:** ${DETECTORS.length} (${report.rules.length} rules), all run`,
    `- **${report.slither.message}**`,
    `- **Gate (\`--fail-on ${gate.failOn}\`):** ${verdict}`,
    "",
    "## Summary",
    "",
    "| Severity | Open | Accepted |",
    "| --- | ---: | ---: |",
    ...SEVERITIES.map((s) => `| ${cap(s)} | ${report.summary[s].open} | ${report.summary[s].accepted} |`),
    "",
    "## Findings",
    "",
  ];
  if (open.length === 0) out.push("No open findings.", "");
  for (const s of SEVERITIES) {
    const group = open.filter((f) => f.severity === s);
    if (group.length === 0) continue;
    out.push(`### ${cap(s)}`, "", ...group.flatMap(findingBlock));
  }
  if (accepted.length > 0) out.push("## Accepted findings", "", ...accepted.flatMap(findingBlock));
  if (report.compilation.failures.length > 0) {
    out.push("## Files that did not compile", "");
    for (const f of report.compilation.failures) out.push(`### \`${f.file}\``, "", "```", f.message, "```", "");
  }
  out.push("## Files audited", "", "| File | solc | keccak256 |", "| --- | --- | --- |");
  out.push(
    ...report.files.map(
      (f) => `| \`${f}\` | ${report.compilation.versions[f] ?? "did not compile"} | \`${report.sourceHashes[f]}\` |`,
    ),
    "",
  );
  return out.join("\n");
}
