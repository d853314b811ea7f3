import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { runAudit } from "../audit/src/audit";
import type { Finding } from "../audit/src/types";
import type { BenchModule, Reporter } from "./lib/report";

/** The labelled corpus: one folder per class, `// @bug` on the vulnerable line, `*Safe.sol` twins without one. */
export const CORPUS = "bench/audit-corpus";

/** Built-in rules and Slither checks that claim each class of the corpus. */
export const CLASS_RULES: Record<string, { builtin: string[]; slither: string[] }> = {
  reentrancy: { builtin: ["reentrancy"], slither: ["reentrancy-eth", "reentrancy-no-eth", "reentrancy-unlimited-gas"] },
  "access-control": {
    builtin: ["unprotected-state-change", "arbitrary-send"],
    slither: ["arbitrary-send-eth", "arbitrary-send-erc20", "protected-vars", "suicidal"],
  },
  "tx-origin": { builtin: ["tx-origin"], slither: ["tx-origin"] },
  delegatecall: { builtin: ["controlled-delegatecall"], slither: ["controlled-delegatecall", "delegatecall-loop"] },
  "unchecked-call": { builtin: ["unchecked-call"], slither: ["unchecked-lowlevel", "unchecked-send"] },
  "unchecked-transfer": { builtin: ["unchecked-transfer"], slither: ["unchecked-transfer"] },
  "signature-replay": { builtin: ["signature-replay", "signature-replay-domain"], slither: [] },
  "ecrecover-zero": { builtin: ["ecrecover-zero"], slither: [] },
  initializer: {
    builtin: ["unprotected-initializer", "uninitialized-implementation", "unprotected-upgrade"],
    slither: ["unprotected-upgrade"],
  },
  randomness: { builtin: ["weak-randomness"], slither: ["weak-prng"] },
  "arbitrary-call": { builtin: ["arbitrary-call"], slither: [] },
};

export interface Label {
  file: string;
  cls: string;
  /** The bug's line; undefined for a safe twin. */
  line?: number;
}

/** Every corpus file with its class and bug line. */
export function readCorpus(root = CORPUS): Label[] {
  const out: Label[] = [];
  for (const cls of readdirSync(root)
    .filter((d) => CLASS_RULES[d])
    .sort())
    for (const name of readdirSync(join(root, cls))
      .filter((f) => f.endsWith(".sol"))
      .sort()) {
      const file = `${root}/${cls}/${name}`;
      const lines = readFileSync(file, "utf8").split("\n");
      const at = lines.findIndex((l) => /\/\/ @bug\b/.test(l));
      out.push({ file, cls, ...(at >= 0 ? { line: at + 1 } : {}) });
    }
  return out;
}

/** A class-tagged finding: `[class, file, line, related lines]`, from one tool's point of view. */
interface Hit {
  cls: string;
  file: string;
  line: number;
  related: number[];
}

type Tool = "builtin" | "slither" | "merged";

function classOf(rule: string, tool: "builtin" | "slither"): string | undefined {
  return Object.keys(CLASS_RULES).find((c) => CLASS_RULES[c][tool].includes(rule));
}

/** The findings one tool made (a merged finding counts for each tool that reported it). */
export function hitsOf(findings: Finding[], tool: Tool): Hit[] {
  const out: Hit[] = [];
  for (const f of findings) {
    const rules: [string, "builtin" | "slither"][] = [[f.detector, f.source]];
    for (const other of f.alsoReportedBy ?? []) rules.push([other.replace(/^slither:/, ""), "slither"]);
    const classes = new Set(
      rules.filter(([, src]) => tool === "merged" || src === tool).flatMap(([r, src]) => classOf(r, src) ?? []),
    );
    for (const cls of classes) out.push({ cls, file: f.file, line: f.line, related: f.relatedLines ?? [] });
  }
  return out;
}

export interface ClassScore {
  bugs: number;
  found: number;
  /** Findings of the class that match no labelled bug of it (safe twins included). */
  falseAlarms: number;
  truePositives: number;
}

/** A finding matches a bug of its class in the same file at the bug's line (or within two lines, or covering it). */
export function score(labels: Label[], hits: Hit[]): Record<string, ClassScore> {
  const out: Record<string, ClassScore> = {};
  for (const cls of Object.keys(CLASS_RULES)) out[cls] = { bugs: 0, found: 0, falseAlarms: 0, truePositives: 0 };
  const near = (h: Hit, l: Label): boolean =>
    h.file === l.file &&
    h.cls === l.cls &&
    l.line !== undefined &&
    (Math.abs(h.line - l.line) <= 2 || h.related.includes(l.line));
  for (const l of labels) {
    if (l.line === undefined) continue;
    out[l.cls].bugs++;
    if (hits.some((h) => near(h, l))) out[l.cls].found++;
  }
  for (const h of hits) {
    if (labels.some((l) => near(h, l))) out[h.cls].truePositives++;
    else out[h.cls].falseAlarms++;
  }
  return out;
}

const pct = (n: number, d: number): string => (d === 0 ? "n/a" : `${((100 * n) / d).toFixed(0)}%`);

async function corpusBench(report: Reporter): Promise<void> {
  const labels = readCorpus();
  const started = process.hrtime.bigint();
  const { report: audit } = await runAudit({ target: CORPUS, failOn: "none" });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const failed = new Set(audit.compilation.failures.map((f) => f.file));
  report.figure(
    "corpus files (vulnerable / safe twins)",
    `${labels.filter((l) => l.line).length} / ${labels.filter((l) => !l.line).length}`,
  );
  report.figure("compiled (target at least 95%)", pct(labels.length - failed.size, labels.length));
  report.figure("wall time (compile, detectors, Slither)", ms, "ms");
  report.figure("Slither", audit.slither.message);
  const safe = labels.filter((l) => l.line === undefined).map((l) => l.file);
  const serious = audit.findings.filter(
    (f) => safe.includes(f.file) && (f.severity === "high" || f.severity === "medium"),
  );
  report.figure("high/medium findings on safe twins (target 0)", serious.length);
  for (const f of serious) report.figure(`  safe twin finding (${f.source})`, `${f.detector} ${f.file}:${f.line}`);
  report.figure("  of which built-in (target 0)", serious.filter((f) => f.source === "builtin").length);
  const tools: Tool[] = audit.slither.status === "ran" ? ["builtin", "slither", "merged"] : ["builtin"];
  const totals: Record<string, number> = {};
  for (const tool of tools) {
    report.section(`audit corpus: ${tool} (recall target 90% per class)`);
    const scores = score(labels, hitsOf(audit.findings, tool));
    let found = 0;
    for (const [cls, s] of Object.entries(scores)) {
      found += s.found;
      report.figure(
        `${cls} recall / precision`,
        `${s.found}/${s.bugs} ${pct(s.found, s.bugs)} / ${pct(s.truePositives, s.truePositives + s.falseAlarms)}`,
      );
    }
    totals[tool] = found;
    const bugs = Object.values(scores).reduce((n, s) => n + s.bugs, 0);
    report.figure(`${tool} bugs found`, `${found}/${bugs} ${pct(found, bugs)}`);
  }
  if (totals.slither !== undefined)
    report.figure(
      "merged finds more than Slither alone",
      `${totals.merged > totals.slither ? "yes" : "NO"} (${totals.merged} vs ${totals.slither})`,
    );
}

/** Recall and precision of the sandbox per class on the labelled corpus, built-in, Slither and merged. */
export const auditCorpusBench: BenchModule = {
  name: "audit-corpus",
  kind: "perf",
  async run(report) {
    report.section("audit corpus (bench/audit-corpus)");
    await corpusBench(report);
  },
};
