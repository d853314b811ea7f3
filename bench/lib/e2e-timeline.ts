/**
 * Where a transaction's time goes through the relayers, from their debug logs (E2E_RELAYER_LOG_LEVEL=debug): for each
 * latency sample, the time of each milestone (the first log line of it naming the transaction) after Drug Maker A
 * accepted the POST, on every process of the run (A's and B's relayers, the Audit Office's attester and independent
 * verifier); printed as the p50 over the samples, in order. The processes share the machine's clock.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Reporter } from "./report";
import { percentile } from "./stats";

/** A log file of the run and the short name its milestones are printed under. */
const SOURCES = [
  ["relayer-drug-maker-a.log", "A"],
  ["relayer-hospital-b.log", "B"],
  ["attester-audit-office.log", "attester"],
  ["verifier-audit-office.log", "verifier"],
] as const;

/** The milestones, by log message (and the ledger write's operation), in the order of the path. */
const MILESTONES: ReadonlyArray<[source: string, match: string, label: string]> = [
  ["A", "transaction accepted", "A accepted the POST"],
  ["A", "ledger write open", "A: open mined"],
  ["attester", "opens seen", "attester saw the open"],
  ["attester", "signed ahead", "attester signed it ahead"],
  ["B", "packet received", "B received the packet"],
  ["B", "attestations asked", "B asked the attesters"],
  ["B", "packet accepted", "B accepted the packet"],
  ["B", "work item started step", "B's step started"],
  ["attester", "attestation served, signed ahead", "attester answered"],
  ["B", "attestations collected", "B collected the attestations"],
  ["B", "attestations taken", "B's step took them"],
  ["B", "step executed", "B: execute mined on sub-chain B"],
  ["B", "ledger write recordResult", "B: result recorded (Executed)"],
  ["verifier", "executed seen", "verifier saw Executed"],
  ["A", "work item started verify", "A started its endorsement"],
  ["B", "ledger write endorse", "B: endorsement mined"],
  ["A", "ledger write endorse", "A: endorsement mined"],
  ["verifier", "checked every result on its sub-chain: endorsed", "verifier: endorsement mined"],
];

interface Line {
  time: string;
  msg: string;
  txId?: string;
  txIds?: string[];
  item?: string;
  op?: string;
}

/** The milestone key of a log line: its message, with the work item's kind or the ledger write's operation. */
function keyOf(line: Line): string {
  if (line.msg === "ledger write") return `ledger write ${line.op}`;
  if (line.msg === "work item started" && line.item !== undefined)
    return `work item started ${line.item.includes(":exec:") ? "step" : line.item.split(":")[0]}`;
  return line.msg;
}

/** The txIds a line names (its own, a batch's, or its work item's). */
function txIdsOf(line: Line): string[] {
  if (line.txId !== undefined) return [line.txId.toLowerCase()];
  if (line.txIds !== undefined) return line.txIds.map((t) => t.toLowerCase());
  const inItem = line.item === undefined ? undefined : /0x[0-9a-fA-F]{64}/.exec(line.item)?.[0];
  return inItem === undefined ? [] : [inItem.toLowerCase()];
}

/** Prints the p50 time of each milestone after A accepted the POST, over the transactions `txIds`. */
export function reportTimeline(report: Reporter, runDir: string, txIds: readonly string[]): void {
  const wanted = new Set(txIds.map((t) => t.toLowerCase()));
  /** By txId: the first time (ms) of each `source:key`. */
  const seen = new Map<string, Map<string, number>>();
  for (const [file, source] of SOURCES) {
    const path = join(runDir, "logs", file);
    if (!existsSync(path)) continue;
    for (const text of readFileSync(path, "utf8").split("\n")) {
      if (!text.startsWith("{")) continue;
      const line = JSON.parse(text) as Line;
      for (const txId of txIdsOf(line)) {
        if (!wanted.has(txId)) continue;
        const times = seen.get(txId) ?? new Map<string, number>();
        seen.set(txId, times);
        const key = `${source}:${keyOf(line)}`;
        if (!times.has(key)) times.set(key, Date.parse(line.time));
      }
    }
  }
  for (const [source, match, label] of MILESTONES) {
    const offsets: number[] = [];
    for (const times of seen.values()) {
      const start = times.get("A:transaction accepted");
      const at = times.get(`${source}:${match}`);
      if (start !== undefined && at !== undefined) offsets.push(at - start);
    }
    if (offsets.length > 0)
      report.figure(`  timeline p50 (${offsets.length} txs): ${label}`, percentile(offsets, 50), "ms");
  }
}
