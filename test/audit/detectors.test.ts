import { expect } from "chai";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { runAudit, type AuditResult } from "../../audit/src/audit";
import { BUILTIN_RULES, DETECTORS } from "../../audit/src/detectors";
import type { Finding } from "../../audit/src/types";
import {
  DETECTOR_FIXTURES,
  FIXTURES,
  ROOT,
  detectorFixtures,
  expectedFindings,
  pathWithoutSlither,
  reportedFindings,
} from "./lib/helpers";

/** Fixture folder of each detector (one folder per detector module). */
const FOLDERS: Record<string, string> = {
  reentrancy: "reentrancy",
  "unprotected state change": "unprotected-state-change",
  "tx.origin": "tx-origin",
  "controlled delegatecall": "controlled-delegatecall",
  "arbitrary call": "arbitrary-call",
  "unchecked low-level call": "unchecked-call",
  "signature replay / malleability": "signature",
  selfdestruct: "selfdestruct",
  "unprotected initializer / upgrade": "unprotected-initializer",
  "weak randomness": "weak-randomness",
  "abi.encodePacked collision": "encode-packed",
  "unbounded loop": "unbounded-loop",
};

async function audit(target: string): Promise<AuditResult> {
  return runAudit({ target, root: ROOT, slither: false, failOn: "none", pathEnv: pathWithoutSlither() });
}

describe("audit sandbox: built-in detectors", function () {
  let all: Finding[];

  before(async function () {
    all = (await audit(DETECTOR_FIXTURES)).report.findings;
  });

  it("has twelve detectors, each with a fixture folder holding a positive and a negative contract", function () {
    expect(DETECTORS).to.have.length(12);
    const folders = readdirSync(join(ROOT, DETECTOR_FIXTURES), { withFileTypes: true }).filter((d) => d.isDirectory());
    expect(folders.map((d) => d.name).sort()).to.deep.equal(Object.values(FOLDERS).sort());
    for (const d of DETECTORS) {
      const { positive, negative } = detectorFixtures(FOLDERS[d.name]);
      expect(positive, d.name).to.not.be.empty;
      expect(negative, d.name).to.not.be.empty;
    }
  });

  for (const [name, folder] of Object.entries(FOLDERS)) {
    describe(name, function () {
      it("reports exactly the annotated rule and line in the positive fixtures", function () {
        const detector = DETECTORS.find((d) => d.name === name)!;
        const ruleIds = detector.rules.map((r) => r.id);
        for (const file of detectorFixtures(folder).positive) {
          const expected = expectedFindings(file);
          // Every rule of this detector is exercised by its positives.
          expect(
            expected.filter((e) => ruleIds.includes(e.split("@")[0])),
            file,
          ).to.not.be.empty;
          expect(reportedFindings(all, file), file).to.deep.equal(expected);
        }
        const exercised = detectorFixtures(folder)
          .positive.flatMap(expectedFindings)
          .map((e) => e.split("@")[0]);
        for (const id of ruleIds) expect(exercised, `rule ${id}`).to.include(id);
      });

      it("reports nothing in the negative fixtures", function () {
        for (const file of detectorFixtures(folder).negative)
          expect(reportedFindings(all, file), file).to.deep.equal([]);
      });
    });
  }

  it("lowers severity where the rule says so (transfer reentrancy, unhashed packing, view-only loops)", function () {
    const at = (file: string, line: number): Finding => all.find((f) => f.file.endsWith(file) && f.line === line)!;
    expect(at("PositiveReentrancy.sol", 22).severity).to.equal("high");
    expect(at("PositiveReentrancy.sol", 34).severity).to.equal("medium");
    expect(at("PositivePacked.sol", 8).severity).to.equal("medium");
    expect(at("PositivePacked.sol", 12).severity).to.equal("medium");
    expect(at("PositivePacked.sol", 18).severity).to.equal("low");
    expect(at("PositiveLoop.sol", 36).severity).to.equal("low");
    expect(at("PositiveLoop.sol", 45).severity).to.equal("medium");
  });

  it("fills every field of a finding: id, rule, severity, location, function, text, source", function () {
    const f = all.find((x) => x.detector === "reentrancy" && x.line === 22)!;
    expect(f.id).to.match(/^CCGP-reentrancy-[0-9a-f]{8}$/);
    expect(f.file).to.equal(`${DETECTOR_FIXTURES}/reentrancy/PositiveReentrancy.sol`);
    expect(f.function).to.equal("PositiveReentrancy.withdraw");
    expect(f.description).to.contain("_balances").and.contain("line 20");
    expect(f.recommendation).to.equal(BUILTIN_RULES.get("reentrancy")!.recommendation);
    expect(f.source).to.equal("builtin");
    expect(f.status).to.equal("open");
  });

  it("reports nothing on well-written contracts (AccessControl, onlyX, if-revert, CEI, EIP-712 with sequence and deadline)", async function () {
    const { report } = await audit(`${FIXTURES}/wellwritten`);
    expect(report.files).to.have.length(5);
    expect(report.findings).to.deep.equal([]);
    expect(report.gate.passed).to.equal(true);
  });

  it("runs every detector over OpenZeppelin's governance folder without crashing", async function () {
    const { report, stats } = await audit("node_modules/@openzeppelin/contracts/governance");
    expect(report.files.length).to.be.greaterThan(20);
    expect(stats.importedFiles).to.be.greaterThan(0);
    // Only findings in the audited folder are reported, never in its imports.
    for (const f of report.findings) expect(f.file).to.match(/^node_modules\/@openzeppelin\/contracts\/governance\//);
  });
});
