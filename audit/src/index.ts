/** Public API of the audit sandbox (the CLI is audit/cli.ts). */
export {
  runAudit,
  writeReports,
  parseFormats,
  DEFAULT_ACCEPTED_FILE,
  type AuditOptions,
  type AuditResult,
  type ReportFormat,
} from "./audit";
export { computeReportHash, hashReportFile } from "./attestation";
export { loadAccepted, parseAccepted, applyAccepted, type AcceptedEntry } from "./accepted";
export { evaluateGate, parseFailOn, type FailOn, type GateResult } from "./gate";
export { compileSources, type CompileResult, type CompiledUnit } from "./compile";
export { collectSolidityFiles } from "./sources";
export { DETECTORS, BUILTIN_RULES } from "./detectors";
export { findSlither, parseSlitherJson, runSlither, type SlitherStatus } from "./slither";
export { dedupeFindings, findingId, categoryOf } from "./dedupe";
export { canonicalJson, type AuditReport } from "./report/model";
export { renderMarkdown } from "./report/markdown";
export { renderSarif } from "./report/sarif";
export { renderJson } from "./report/json";
export { Progress } from "./progress";
export { AuditError, AuditInputError, AuditCompileError, AuditImportError } from "./errors";
export { SEVERITIES, type Severity, type Finding, type RawFinding } from "./types";
