import { canonicalJson, type AuditReport } from "./model";

/** The JSON report: canonical JSON of the report model (the bytes the attestation hash covers). */
export function renderJson(report: AuditReport): string {
  return canonicalJson(report);
}
