import { readFileSync } from "node:fs";
import { keccak256, stringToBytes, type Hex } from "viem";
import { canonicalJson, type AuditReport } from "./report/model";

/**
 * The canonical report hash an audit institution submits on-chain when it registers a contract:
 * keccak256 of the JSON report's bytes. A report object is serialised canonically first (sorted
 * keys, two-space indent, final newline): exactly the bytes `report.json` holds, so hashing the
 * object and hashing the written file give the same value.
 */
export function computeReportHash(report: AuditReport | string | Uint8Array): Hex {
  if (report instanceof Uint8Array) return keccak256(report);
  return keccak256(stringToBytes(typeof report === "string" ? report : canonicalJson(report)));
}

/** The report hash of a written `report.json`. */
export function hashReportFile(path: string): Hex {
  return keccak256(new Uint8Array(readFileSync(path)));
}
