import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import { keccak256, stringToBytes } from "viem";
import { join } from "node:path";
import { computeReportHash, hashReportFile } from "../../audit/src/attestation";
import { runAudit, writeReports, type AuditResult } from "../../audit/src/audit";
import { dedupeFindings, findingId } from "../../audit/src/dedupe";
import { BUILTIN_RULES } from "../../audit/src/detectors";
import { canonicalJson } from "../../audit/src/report/model";
import type { RawFinding } from "../../audit/src/types";
import { DETECTOR_FIXTURES, NO_SLITHER, ROOT, tempDir } from "./lib/helpers";

// One file: the folder holds more fixtures, and these tests count the findings of this one.
function audit(target = `${DETECTOR_FIXTURES}/reentrancy/PositiveReentrancy.sol`): Promise<AuditResult> {
  return runAudit({ target, root: ROOT, ...NO_SLITHER });
}

const raw = (over: Partial<RawFinding>): RawFinding => ({
  detector: "reentrancy",
  severity: "high",
  file: "contracts/A.sol",
  line: 10,
  title: "t",
  description: "d",
  recommendation: "r",
  source: "builtin",
  ...over,
});

describe("audit sandbox: reports", function () {
  let result: AuditResult;
  let outDir: string;

  before(async function () {
    result = await audit();
    outDir = tempDir("reports");
    writeReports(result.report, outDir);
  });

  it("writes Markdown with context, a summary table by severity, then the findings", function () {
    const md = readFileSync(join(outDir, "report.md"), "utf8");
    expect(md).to.contain("# CCGP audit sandbox report");
    expect(md).to.contain("**Slither: not installed (not run; `npm run setup:slither` installs it)**");
    expect(md).to.contain("| Severity | Open | Accepted |");
    expect(md).to.contain("| High | 3 | 0 |");
    expect(md).to.contain("| Medium | 1 | 0 |");
    expect(md).to.contain("**FAILED** (4 open finding(s) at or above medium)");
    expect(md.indexOf("## Summary")).to.be.lessThan(md.indexOf("### High"));
    expect(md.indexOf("### High")).to.be.lessThan(md.indexOf("### Medium"));
    const first = result.report.findings.find((f) => f.line === 22)!;
    expect(md).to.contain(`#### ${first.id}: State written after an external call`);
    expect(md).to.contain(`- **Location:** \`${first.file}:22\` in \`PositiveReentrancy.withdraw\``);
    expect(md).to.contain("- **Recommendation:** Follow checks-effects-interactions");
  });

  it("writes SARIF 2.1.0 with the rules and results a code-scanning tool reads", function () {
    const sarif = JSON.parse(readFileSync(join(outDir, "report.sarif"), "utf8"));
    expect(sarif.version).to.equal("2.1.0");
    expect(sarif.$schema).to.match(/sarif-2\.1\.0/);
    expect(sarif.runs).to.have.length(1);
    const { driver } = sarif.runs[0].tool;
    expect(driver.name).to.equal("ccgp-audit-sandbox");
    expect(driver.rules.map((r: { id: string }) => r.id)).to.deep.equal([...BUILTIN_RULES.keys()]);
    const results = sarif.runs[0].results;
    expect(results).to.have.length(4);
    for (const r of results) {
      expect(driver.rules[r.ruleIndex].id).to.equal(r.ruleId);
      expect(r.locations[0].physicalLocation.artifactLocation.uri).to.equal(
        `${DETECTOR_FIXTURES}/reentrancy/PositiveReentrancy.sol`,
      );
      expect(r.locations[0].physicalLocation.region.startLine).to.be.a("number");
    }
    expect(results.map((r: { level: string }) => r.level).sort()).to.deep.equal(["error", "error", "error", "warning"]);
  });

  it("writes JSON holding every finding field, with no time or absolute path in it", function () {
    const text = readFileSync(join(outDir, "report.json"), "utf8");
    const json = JSON.parse(text);
    expect(json.schema).to.equal("ccgp-audit-report/1");
    expect(json.findings).to.have.length(4);
    expect(Object.keys(json.findings[0]).sort()).to.deep.equal(
      [
        "description",
        "detector",
        "file",
        "function",
        "id",
        "line",
        "recommendation",
        "severity",
        "source",
        "status",
        "title",
      ].sort(),
    );
    expect(text).to.not.contain(ROOT);
    expect(text).to.equal(canonicalJson(json));
  });

  it("gives the same ids and the same bytes on a second run", async function () {
    const again = await audit();
    expect(again.report.findings.map((f) => f.id)).to.deep.equal(result.report.findings.map((f) => f.id));
    expect(canonicalJson(again.report)).to.equal(canonicalJson(result.report));
  });

  it("makes ids from file, line and rule", function () {
    const id = findingId({ file: "contracts/A.sol", line: 10, detector: "reentrancy" });
    expect(id).to.match(/^CCGP-reentrancy-[0-9a-f]{8}$/);
    expect(findingId({ file: "contracts/A.sol", line: 10, detector: "reentrancy" })).to.equal(id);
    expect(findingId({ file: "contracts/A.sol", line: 11, detector: "reentrancy" })).to.not.equal(id);
    expect(findingId({ file: "contracts/B.sol", line: 10, detector: "reentrancy" })).to.not.equal(id);
  });

  describe("dedupe", function () {
    it("folds a Slither finding of an equivalent check at the same place into the built-in one, keeping the higher severity", function () {
      const merged = dedupeFindings(
        [raw({ detector: "tx-origin", severity: "medium" })],
        [raw({ detector: "tx-origin", severity: "high", source: "slither", line: 9, relatedLines: [9, 10] })],
      );
      expect(merged).to.have.length(1);
      expect(merged[0]).to.include({ detector: "tx-origin", severity: "high", source: "builtin" });
      expect(merged[0].alsoReportedBy).to.deep.equal(["slither:tx-origin"]);
    });

    it("keeps findings of other categories, lines or files apart", function () {
      const merged = dedupeFindings(
        [raw({})],
        [
          raw({ detector: "reentrancy-no-eth", source: "slither", file: "contracts/B.sol" }),
          raw({ detector: "reentrancy-benign", source: "slither", line: 30 }),
          raw({ detector: "suicidal", source: "slither" }),
        ],
      );
      expect(merged.map((f) => f.detector)).to.deep.equal([
        "reentrancy",
        "suicidal",
        "reentrancy-benign",
        "reentrancy-no-eth",
      ]);
    });

    it("maps Slither checks to built-in categories", function () {
      const pairs: [string, string][] = [
        ["reentrancy-no-eth", "reentrancy"],
        ["unchecked-send", "unchecked-call"],
        ["controlled-delegatecall", "controlled-delegatecall"],
        ["suicidal", "selfdestruct"],
        ["weak-prng", "weak-randomness"],
        ["encode-packed-collision", "encode-packed-collision"],
        ["costly-loop", "unbounded-loop"],
        ["unprotected-upgrade", "unprotected-initializer"],
      ];
      for (const [check, rule] of pairs) {
        const merged = dedupeFindings([raw({ detector: rule })], [raw({ detector: check, source: "slither" })]);
        expect(merged, check).to.have.length(1);
        expect(merged[0].alsoReportedBy, check).to.deep.equal([`slither:${check}`]);
      }
    });
  });

  describe("attestation", function () {
    it("hashes the JSON report with keccak256, stable for the same input and equal to the written file's hash", async function () {
      const hash = computeReportHash(result.report);
      expect(hash).to.match(/^0x[0-9a-f]{64}$/);
      expect(computeReportHash((await audit()).report)).to.equal(hash);
      expect(hashReportFile(join(outDir, "report.json"))).to.equal(hash);
      expect(computeReportHash(readFileSync(join(outDir, "report.json"), "utf8"))).to.equal(hash);
    });

    it("binds the report to the exact sources: a changed comment changes the source hash and the report hash", async function () {
      const dir = tempDir("attest");
      const file = join(dir, "Token.sol");
      const source = readFileSync(join(ROOT, DETECTOR_FIXTURES, "tx-origin/NegativeTxOrigin.sol"), "utf8");
      writeFileSync(file, source);
      const first = await runAudit({ target: dir, root: dir, slither: false });
      expect(first.report.sourceHashes).to.deep.equal({ "Token.sol": keccak256(stringToBytes(source)) });
      writeFileSync(file, source.replace("EOA", "externally owned account"));
      const second = await runAudit({ target: dir, root: dir, slither: false });
      expect(second.report.findings).to.deep.equal(first.report.findings);
      expect(second.report.sourceHashes["Token.sol"]).to.not.equal(first.report.sourceHashes["Token.sol"]);
      expect(computeReportHash(second.report)).to.not.equal(computeReportHash(first.report));
    });

    it("changes when anything in the report changes", function () {
      const hash = computeReportHash(result.report);
      const changed = structuredClone(result.report);
      changed.findings[0].line += 1;
      expect(computeReportHash(changed)).to.not.equal(hash);
      expect(computeReportHash({ ...result.report, gate: { ...result.report.gate, failOn: "high" } })).to.not.equal(
        hash,
      );
    });
  });
});
