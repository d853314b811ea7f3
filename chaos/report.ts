/** The chaos run's report: JSON (everything), Markdown (the figures), and an SVG plot of states over time. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChaosReport } from "./harness";

const COLOURS: Record<string, string> = {
  None: "#999999",
  Open: "#1f77b4",
  Executing: "#17becf",
  Executed: "#9467bd",
  Confirmed: "#2ca02c",
  Failed: "#8c564b",
  Compensating: "#ff7f0e",
  Compensated: "#bcbd22",
  Manual: "#d62728",
  Resolved: "#e377c2",
  Expired: "#7f7f7f",
};

export function svgTimeline(report: ChaosReport): string {
  const w = 800,
    h = 360,
    left = 50,
    bottom = 30,
    top = 20;
  const points = report.timeline;
  const tMax = Math.max(1, ...points.map((p) => p.t));
  const yMax = Math.max(1, ...points.map((p) => Object.values(p.counts).reduce((a, b) => a + b, 0)));
  const states = Object.keys(COLOURS).filter((s) => points.some((p) => (p.counts[s] ?? 0) > 0));
  const x = (t: number) => left + ((w - left - 10) * t) / tMax;
  const y = (n: number) => h - bottom - ((h - bottom - top) * n) / yMax;
  const lines = states.map((s) => {
    const d = points
      .map((p, i) => `${i === 0 ? "M" : "L"}${x(p.t).toFixed(1)},${y(p.counts[s] ?? 0).toFixed(1)}`)
      .join(" ");
    return `<path d="${d}" fill="none" stroke="${COLOURS[s]}" stroke-width="2"/>`;
  });
  const legend = states.map(
    (s, i) => `<text x="${left + 10 + i * 95}" y="14" fill="${COLOURS[s]}" font-size="12">${s}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<line x1="${left}" y1="${h - bottom}" x2="${w - 10}" y2="${h - bottom}" stroke="black"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${h - bottom}" stroke="black"/>`,
    `<text x="${w / 2}" y="${h - 6}" font-size="12" text-anchor="middle">seconds since start (${tMax} s)</text>`,
    `<text x="12" y="${top + 10}" font-size="12">${yMax}</text>`,
    ...lines,
    ...legend,
    "</svg>",
  ].join("\n");
}

export function markdown(report: ChaosReport): string {
  const rows = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, v]) => `| ${k} | ${v} |`)
      .join("\n");
  return `# Chaos run, seed ${report.seed}

**${report.passed ? "PASSED" : "FAILED"}**${report.failures.length ? `: ${report.failures.join("; ")}` : ""}

${report.transactions} transactions accepted in ${report.durationSeconds} s. Lost: ${report.lost}. Duplicated: executions ${report.duplicated.executions}, results ${report.duplicated.results}, endorsements ${report.duplicated.endorsements}, done and compensated ${report.duplicated.doneAndCompensated}. Not final: ${report.notFinal.length}. Manual: ${report.manual}. Unexpected exits: ${report.unexpectedExits.length}.

## Transactions per state

| state | count |
|---|---|
${rows(report.states)}

## By kind of request

${byKind(report.byKind)}

Two-phase transfers checked on both sub-chains: ${report.twoPhase.checked}; committed on both sides with both balances
moved once: ${report.twoPhase.committed}; nothing committed and both balances as issued: ${report.twoPhase.undone};
half done: ${report.twoPhase.wrong.length}${report.twoPhase.wrong.length ? ` (${report.twoPhase.wrong.slice(0, 5).join("; ")})` : ""}.
No lock is left in either.

## Faults injected

| fault | count |
|---|---|
${rows(report.faults)}

Recoveries after a kill: ${report.recoveries}; time to recover (restart to healthy) p50 ${report.recoverMs.p50} ms, p99 ${report.recoverMs.p99} ms. Kills aimed at a moment that did not come within 30 s (killed then instead): ${report.triggerMisses}.

Time from acceptance to a final state: p50 ${report.finalSeconds.p50} s, p99 ${report.finalSeconds.p99} s.

Where the drive's time went (ms, summed over its workers): ${Object.entries(report.driveProfile)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ")}.

## Fuzz and overload

Fuzzed requests: ${report.fuzz.sent}, refused with a named error: ${report.fuzz.refused}, not: ${report.fuzz.notRefused}.
${fuzzRates(report.fuzz)}

| refusal | count |
|---|---|
${rows(report.fuzz.codes)}

${overload(report.overload)}

Relayer peak RSS: A ${report.rssMiB.a} MiB, B ${report.rssMiB.b} MiB.

![states over time](states.svg)
`;
}

/** A table of transactions per state for each kind of request. */
function byKind(kinds: ChaosReport["byKind"]): string {
  const states = [...new Set(Object.values(kinds).flatMap((k) => Object.keys(k)))].sort();
  const head = `| kind | ${states.join(" | ")} |\n|---|${states.map(() => "---|").join("")}`;
  const body = Object.entries(kinds).map(([kind, k]) => `| ${kind} | ${states.map((st) => k[st] ?? 0).join(" | ")} |`);
  return [head, ...body].join("\n");
}

/** The fuzz rate of each endpoint (both fuzzed at once, each by its own 16 connections). */
function fuzzRates(f: ChaosReport["fuzz"]): string {
  const rates = Object.entries(f.rates ?? {}).map(
    ([name, r]) => `${name} ${r.sent} in ${r.seconds} s (${r.perSecond}/s)`,
  );
  return rates.length === 0 ? "" : `Rate, both endpoints at once: ${rates.join(", ")}.`;
}

function overload(o: ChaosReport["overload"]): string {
  const others = Object.entries(o.otherRefusals)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return [
    `Overload: ${o.sent} requests sent at ${o.ratePerSecond}/s against a limit of ${o.limitPerSecond}/s.`,
    `Of the ${o.reachedLimit} that reached the limit's turn, ${o.accepted} were accepted (${o.acceptedPerSecond}/s from the first send to the last acceptance; the limit admits at most ${o.limitAdmits} in that window with its burst; all tracked to a final state)`,
    `and ${o.refused429} answered 429 (${o.withRetryAfter} with Retry-After).`,
    `${o.overtaken} passed the limit and were then refused REPLAY: pre-signed with ascending sequences and sent at once, a higher one`,
    `journaled first (the intake refuses a sequence not above the last it took, whatever the load).`,
    others ? `Other refusals: ${others}.` : "",
  ]
    .filter((l) => l !== "")
    .join(" ");
}

export function writeReport(dir: string, report: ChaosReport): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "report.json"), JSON.stringify(report, null, 2));
  writeFileSync(join(dir, "report.md"), markdown(report));
  writeFileSync(join(dir, "states.svg"), svgTimeline(report));
}
