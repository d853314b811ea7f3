/** Plain-text renderings for the terminal: one transaction's trace, anomaly and reconciliation reports, lists. */
import type { AnomalyReport } from "./anomalies";
import type { CheckedTrace } from "./queries";
import type { ReconciliationReport } from "./reconcile";
import type { TxSummary } from "./trace";

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

export function traceText(t: CheckedTrace): string {
  const lines = [
    `transaction #${t.number} ${t.txId}`,
    `  pipe ${t.pipeId}: institution ${t.sourceInstitution ?? "?"} -> ${t.targetInstitution ?? "?"}, opened by ` +
      `${t.opener} at ${iso(t.openedAt)} (block ${t.openedBlock})`,
    `  state ${t.state} (reason ${t.reason}), ${t.stepsDone}/${t.stepCount} steps done, deadline ${iso(t.deadline)}`,
    "  steps:",
    ...t.steps.map(
      (s) =>
        `    ${s.index}: ${s.side} ${s.operation}${s.dependsOn === null ? "" : ` after read ${s.dependsOn}`} on ` +
        `${s.subchain ?? "?"}` +
        `${s.packet === null ? "" : `, packet ${s.packet}`}${s.done ? ", done" : ""}${s.undone ? ", undone" : ""}`,
    ),
    `  packets:${t.packetsNote ? ` (${t.packetsNote})` : ""}`,
    ...t.packets.map(
      (p) =>
        `    ${p.position}: sequence ${p.sequence} ${p.packetHash}: app ${p.appSigner ?? "?"} (declared ` +
        `${p.declaredSigner}), ` +
        `proxy ${p.proxySigner ?? "?"}: ${p.signaturesValid ? "signatures valid" : `INVALID: ${p.problem}`}`,
    ),
    "  results:",
    ...t.results.map(
      (r) =>
        `    step ${r.step} by ${r.recorder} at ${iso(r.at)}: ${r.success ? "success" : "FAILED"}, sub-chain tx ` +
        `${r.subchainTx} block ${r.blockNumber}, result ${r.resultHash}`,
    ),
    `  verification: ${t.verification.weightFor} for, ${t.verification.weightAgainst} against, of ` +
      `${t.verification.totalWeight ?? "?"}`,
    ...t.endorsements.map(
      (e) =>
        `    ${e.verifier} (weight ${e.weight}) ${e.agrees ? "endorsed" : "CONFLICTED with"} ${e.endorsedHash} at ` +
        `${iso(e.at)}`,
    ),
  ];
  if (t.retries.length)
    lines.push(
      "  retries:",
      ...t.retries.map((r) => `    step ${r.step} attempt ${r.attempt} by ${r.by}: ${r.reason}`),
    );
  if (t.staleReads.length)
    lines.push(
      "  stale reads:",
      ...t.staleReads.map(
        (r) => `    step ${r.step} saw version ${r.seenVersion}, read ${r.readStep} recorded ${r.readVersion}`,
      ),
    );
  if (t.compensations.length)
    lines.push(
      "  compensations:",
      ...t.compensations.map(
        (c) =>
          `    step ${c.step} attempt ${c.attempt} by ${c.recorder}: ${c.success ? "undone" : "FAILED"}, sub-chain ` +
          `tx ${c.subchainTx}`,
      ),
    );
  if (t.escalations.length)
    lines.push("  escalations:", ...t.escalations.map((e) => `    by ${e.by} at ${iso(e.at)}: ${e.reason}`));
  if (t.resolutions.length)
    lines.push(
      "  resolutions:",
      ...t.resolutions.map((r) => `    by governor ${r.governor} at ${iso(r.at)}: ${r.reason}`),
    );
  lines.push(
    "  transitions:",
    ...t.transitions.map((x) => `    ${iso(x.at)} ${x.from} -> ${x.to} (${x.reason}) by ${x.actor}, block ${x.block}`),
  );
  if (t.credit.length)
    lines.push(
      "  credit:",
      ...t.credit.map((c) => `    institution ${c.institution}: ${c.outcome} ${c.delta} -> ${c.score}`),
    );
  if (t.receipts)
    lines.push(
      "  sub-chain receipts:",
      ...t.receipts.map(
        (r) =>
          `    ${r.kind} step ${r.step} on chain ${r.chainId ?? "?"}: ` +
          `${r.ok ? "ok" : r.problems.map((p) => `${p.code}: ${p.message}`).join("; ")}`,
      ),
    );
  return lines.join("\n");
}

export function transactionsText(rows: TxSummary[]): string {
  if (rows.length === 0) return "no transaction matches";
  return rows
    .map(
      (t) =>
        `#${t.number} ${t.txId} ${t.state.padEnd(12)} pipe ${t.pipeId.slice(0, 10)}.. ` +
        `${t.sourceInstitution ?? "?"}->${t.targetInstitution ?? "?"} opened ${iso(t.openedAt)}`,
    )
    .join("\n");
}

export function anomaliesText(r: AnomalyReport): string {
  const counts = Object.entries(r.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  return [
    `anomalies at ${iso(r.now)}: ${r.anomalies.length}${counts ? ` (${counts})` : ""}`,
    ...r.anomalies.map((a) => `  [${a.severity}] ${a.kind}: ${a.message}`),
  ].join("\n");
}

export function reconciliationText(r: ReconciliationReport): string {
  const lines = [
    `reconciliation at ${iso(r.generatedAt)}: ${r.scanned} transaction(s) in the index (checkpoint block ` +
      `${r.checkpoint?.height ?? "none"}), ` +
      `${r.ledgerIssues.length} ledger issue(s), ${r.crossChain.length} disagreeing with the sub-chains`,
  ];
  if (r.missing > 0)
    lines.push(`  WARNING: the ledger counts ${r.missing} transaction(s) the index does not hold yet: index again`);
  for (const i of r.ledgerIssues) {
    const undone = i.writesNotUndone.length ? `, writes not undone: step ${i.writesNotUndone.join(", ")}` : "";
    const late = i.secondsLate !== "0" ? `, ${i.secondsLate}s past its deadline` : "";
    lines.push(
      `  ledger: #${i.number} ${i.txId}: ${i.issue} (${i.state}, reason ${i.reason}, ${i.stepsDone}/${i.stepCount} ` +
        `steps${undone}${late})`,
    );
  }
  for (const e of r.crossChain)
    for (const p of e.problems)
      lines.push(`  cross-chain: #${e.number} ${e.txId} (${e.state}): ${p.code}: ${p.message}`);
  for (const u of r.unchecked)
    lines.push(`  unchecked: ${u.txId}${u.step === null ? "" : ` step ${u.step}`}: ${u.message}`);
  return lines.join("\n");
}
