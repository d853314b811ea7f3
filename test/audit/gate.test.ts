import { expect } from "chai";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAccepted } from "../../audit/src/accepted";
import { runAudit } from "../../audit/src/audit";
import { AuditInputError } from "../../audit/src/errors";
import { evaluateGate, parseFailOn } from "../../audit/src/gate";
import { renderMarkdown } from "../../audit/src/report/markdown";
import { renderSarif } from "../../audit/src/report/sarif";
import type { Finding } from "../../audit/src/types";
import { collectSolidityFiles } from "../../audit/src/sources";
import { DETECTOR_FIXTURES, NO_SLITHER, ROOT, envWithoutSlither, runCli, tempDir } from "./lib/helpers";

const REENTRANCY = `${DETECTOR_FIXTURES}/reentrancy/PositiveReentrancy.sol`;
const env = envWithoutSlither();

const finding = (severity: Finding["severity"], status: Finding["status"] = "open"): Finding => ({
  id: "x",
  detector: "d",
  severity,
  file: "f",
  line: 1,
  title: "t",
  description: "d",
  recommendation: "r",
  source: "builtin",
  status,
});

function acceptedFile(entries: unknown): string {
  const path = join(tempDir("accepted"), "accepted.json");
  writeFileSync(path, JSON.stringify(entries));
  return path;
}

describe("audit sandbox: gate and accepted findings", function () {
  describe("severity gate", function () {
    it("fails when an open finding is at or above the threshold", function () {
      const findings = [finding("medium"), finding("low")];
      expect(evaluateGate(findings, "high")).to.deep.equal({ failOn: "high", passed: true, blocking: 0 });
      expect(evaluateGate(findings, "medium")).to.deep.equal({ failOn: "medium", passed: false, blocking: 1 });
      expect(evaluateGate(findings, "low")).to.deep.equal({ failOn: "low", passed: false, blocking: 2 });
      expect(evaluateGate(findings, "info").blocking).to.equal(2);
      expect(evaluateGate(findings, "none")).to.deep.equal({ failOn: "none", passed: true, blocking: 0 });
    });

    it("never counts accepted findings", function () {
      expect(evaluateGate([finding("high", "accepted")], "info").passed).to.equal(true);
    });

    it("refuses an unknown threshold", function () {
      expect(parseFailOn("low")).to.equal("low");
      expect(() => parseFailOn("critical")).to.throw(
        AuditInputError,
        '--fail-on must be one of high, medium, low, info, none (got "critical")',
      );
    });
  });

  describe("accepted-findings file", function () {
    it("refuses an entry without a justification, naming it", function () {
      const entry = { detector: "reentrancy", file: REENTRANCY, line: 22 };
      expect(() => parseAccepted({ accepted: [entry] }, "audit/accepted.json")).to.throw(
        AuditInputError,
        `audit/accepted.json: entry 1 (reentrancy in ${REENTRANCY}:22) has no justification`,
      );
      expect(() => parseAccepted([{ ...entry, justification: "  " }])).to.throw(
        AuditInputError,
        "has no justification",
      );
    });

    it("refuses an entry with neither line nor function, an unknown field, or a bad shape", function () {
      expect(() => parseAccepted([{ detector: "x", file: "f.sol", justification: "j" }])).to.throw(
        AuditInputError,
        "needs a line or a function",
      );
      expect(() =>
        parseAccepted([{ detector: "x", file: "f.sol", line: 1, justification: "j", reason: "?" }]),
      ).to.throw(AuditInputError, "entry 1");
      expect(() => parseAccepted([{ detector: "x", file: "f.sol", line: "22", justification: "j" }])).to.throw(
        AuditInputError,
        "entry 1: line",
      );
      expect(() => parseAccepted({ findings: [] })).to.throw(AuditInputError, 'expected {"accepted": [ ... ]}');
    });

    it("accepts by line or by function: listed with the justification, out of the gate", async function () {
      const path = acceptedFile({
        accepted: [
          { detector: "reentrancy", file: REENTRANCY, line: 22, justification: "Only trusted EOAs hold balances." },
          {
            detector: "reentrancy",
            file: REENTRANCY,
            function: "notify",
            justification: "Receivers are registry contracts.",
          },
          {
            detector: "reentrancy-eth",
            file: REENTRANCY,
            function: "PositiveReentrancy.batch",
            justification: "Slither's name works too.",
          },
          { detector: "tx-origin", file: REENTRANCY, line: 1, justification: "Matches nothing." },
        ],
      });
      // One file: the folder holds more fixtures, and this test counts the findings of this one.
      const { report, unusedAccepted } = await runAudit({
        target: REENTRANCY,
        root: ROOT,
        acceptedFile: path,
        ...NO_SLITHER,
      });
      const status = Object.fromEntries(report.findings.map((f) => [f.line, f.status]));
      expect(status).to.deep.equal({ 22: "accepted", 28: "accepted", 34: "open", 40: "accepted" });
      expect(report.findings.find((f) => f.line === 22)!.justification).to.equal("Only trusted EOAs hold balances.");
      expect(report.summary.high).to.deep.equal({ open: 0, accepted: 3 });
      expect(report.gate).to.deep.equal({ failOn: "medium", passed: false, blocking: 1 }); // the transfer at 34
      expect(unusedAccepted.map((e) => e.detector)).to.deep.equal(["tx-origin"]);
      const md = renderMarkdown(report);
      expect(md).to.contain("## Accepted findings");
      expect(md).to.contain("- **Accepted:** Receivers are registry contracts.");
      const sarif = JSON.parse(renderSarif(report));
      const suppressed = sarif.runs[0].results.filter((r: { suppressions?: unknown[] }) => r.suppressions);
      expect(suppressed).to.have.length(3);
      expect(suppressed[0].suppressions[0]).to.deep.equal({
        kind: "external",
        status: "accepted",
        justification: "Only trusted EOAs hold balances.",
      });
    });

    it("is a committed, valid file", function () {
      expect(
        parseAccepted(JSON.parse(readFileSync(join(ROOT, "audit/accepted.json"), "utf8")), "audit/accepted.json"),
      ).to.be.an("array");
    });
  });

  describe("command line (child process)", function () {
    this.timeout(900_000); // several child processes, each loading solc
    it("exits 1 on a finding at or above medium: summary on stdout, progress on stderr", function () {
      const out = tempDir("cli");
      const run = runCli([REENTRANCY, "--out", out], env);
      expect(run.status, run.stderr).to.equal(1);
      expect(run.stdout).to.contain("Slither: not installed (not run;");
      expect(run.stdout).to.contain("Findings: high 3, medium 1, low 0, info 0");
      expect(run.stdout).to.contain("Gate (--fail-on medium): FAILED, 4 open finding(s) at or above medium");
      expect(run.stdout).to.match(/Report hash \(keccak256 of report\.json\): 0x[0-9a-f]{64}/);
      expect(run.stdout).to.not.contain("audit: detector");
      expect(run.stderr).to.contain("audit: detector 1/12 reentrancy");
      expect(run.stderr).to.contain("audit: detector 12/12 unbounded loop");
      expect(readdirSync(out).sort()).to.deep.equal(["report.json", "report.md", "report.sarif"]);
    });

    it("exits 0 below the threshold and writes only the formats asked for", function () {
      const out = tempDir("cli");
      // encode-packed positives are medium and low only.
      const high = runCli(
        [`${DETECTOR_FIXTURES}/encode-packed`, "--fail-on", "high", "--out", out, "--format", "md", "--quiet"],
        env,
      );
      expect(high.status, high.stderr).to.equal(0);
      expect(high.stdout).to.contain("Gate (--fail-on high): passed");
      expect(high.stderr).to.equal("");
      expect(readdirSync(out)).to.deep.equal(["report.md"]);
      const low = runCli([`${DETECTOR_FIXTURES}/encode-packed`, "--fail-on", "low", "--out", out, "--quiet"], env);
      expect(low.status).to.equal(1);
    });

    it("exits 0 on clean code and when accepted findings cover the rest", function () {
      const out = tempDir("cli");
      expect(
        runCli([`${DETECTOR_FIXTURES}/reentrancy/NegativeReentrancy.sol`, "--out", out, "--quiet"], env).status,
      ).to.equal(0);
      const accepted = acceptedFile([
        { detector: "reentrancy", file: REENTRANCY, function: "withdraw", justification: "a" },
        { detector: "reentrancy", file: REENTRANCY, function: "notify", justification: "b" },
        { detector: "reentrancy", file: REENTRANCY, function: "pay", justification: "c" },
        { detector: "reentrancy", file: REENTRANCY, function: "batch", justification: "d" },
      ]);
      const run = runCli([REENTRANCY, "--accepted", accepted, "--out", out, "--quiet"], env);
      expect(run.status, run.stdout + run.stderr).to.equal(0);
      expect(run.stdout).to.contain("(+4 accepted)");
    });

    it("exits 2 on bad input with a message naming the problem", function () {
      const out = tempDir("cli");
      const cases: [string[], string][] = [
        [["contracts/nowhere"], "audit: error: path does not exist: contracts/nowhere"],
        [[tempDir("empty")], "no .sol files found in"],
        [
          ["audit/test/fixtures/errors/parse"],
          "audit/test/fixtures/errors/parse/Broken.sol:9:5: ParserError: Expected ';' but got '}'",
        ],
        [["audit/test/fixtures/errors/missing-import"], 'missing import "./DoesNotExist.sol"'],
        [[REENTRANCY, "--fail-on", "severe"], "--fail-on must be one of high, medium, low, info, none"],
        [[REENTRANCY, "--format", "html"], "--format takes a comma-separated list of md, sarif, json"],
        [[REENTRANCY, "--accepted", "audit/nope.json"], "accepted-findings file does not exist: audit/nope.json"],
        [
          [REENTRANCY, "--accepted", acceptedFile([{ detector: "reentrancy", file: REENTRANCY, line: 22 }])],
          "has no justification",
        ],
        [[REENTRANCY, "--bogus"], "unknown option '--bogus'"],
        [[], "missing required argument 'path'"],
      ];
      for (const [args, message] of cases) {
        const run = runCli([...args, "--out", out, "--quiet"], env);
        expect(run.status, `${args.join(" ")}: ${run.stderr}`).to.equal(2);
        expect(run.stderr, args.join(" ")).to.contain(message);
      }
    });
  });

  describe("CI gate on the project's own contracts", function () {
    const script = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts["audit:ci"] as string;

    it("is the npm script `audit:ci`: contracts/ without contracts/mocks, failing on medium", function () {
      expect(script).to.equal(
        "ts-node --transpile-only audit/cli.ts contracts --exclude contracts/mocks --fail-on medium --out audit-report",
      );
    });

    it("passes on contracts/ (mocks excluded)", function () {
      this.timeout(900_000); // the whole of contracts/, with the real Slither where it is installed
      const hasSources = (() => {
        try {
          return (
            existsSync(join(ROOT, "contracts")) &&
            collectSolidityFiles("contracts", ROOT, ["contracts/mocks"]).files.length > 0
          );
        } catch {
          return false;
        }
      })();
      if (!hasSources) this.skip(); // contracts/ holds no sources yet on this branch
      const args = script.replace("ts-node --transpile-only audit/cli.ts ", "").split(" ");
      // With the real Slither when it is installed (always in CI): its findings are gated too.
      const run = runCli([...args.map((a) => (a === "audit-report" ? tempDir("ci") : a)), "--quiet"]);
      expect(run.status, run.stdout + run.stderr).to.equal(0);
      if (process.env.CI) expect(run.stdout).to.match(/Slither: ran \(\d+ findings\)/);
    });
  });
});
