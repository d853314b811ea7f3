import { expect } from "chai";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { runAudit } from "../../audit/src/audit";
import { AuditError } from "../../audit/src/errors";
import { renderMarkdown } from "../../audit/src/report/markdown";
import { findSlither, parseSlitherJson, runSlither } from "../../audit/src/slither";
import { DETECTOR_FIXTURES, FIXTURES, ROOT, pathWithoutSlither, tempDir } from "./lib/helpers";

const OUTPUT = join(ROOT, FIXTURES, "slither/slither-output.json");
const FAILURE = join(ROOT, FIXTURES, "slither/slither-failure.json");

/** A fake `slither` that records its arguments and prints a recorded Slither JSON output, exiting 255 as Slither does with findings. */
function fakeSlither(jsonFile: string): { dir: string; argsFile: string } {
  const dir = tempDir("fake-slither");
  const argsFile = join(dir, "args.txt");
  const script = join(dir, "slither");
  writeFileSync(
    script,
    `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\necho 'INFO:Detectors: analysing' >&2\ncat '${jsonFile}'\nexit 255\n`,
  );
  chmodSync(script, 0o755);
  return { dir, argsFile };
}

describe("audit sandbox: Slither", function () {
  describe("parser (committed output in Slither's JSON format)", function () {
    const findings = parseSlitherJson(readFileSync(OUTPUT, "utf8"), { cwd: ROOT, root: ROOT });

    it("turns each detector result into a finding at the statement's file and line", function () {
      const reentrancy = findings.find((f) => f.detector === "reentrancy-eth")!;
      expect(reentrancy).to.include({
        severity: "high",
        file: `${DETECTOR_FIXTURES}/reentrancy/PositiveReentrancy.sol`,
        line: 20,
        function: "PositiveReentrancy.withdraw",
        source: "slither",
      });
      expect(reentrancy.description).to.match(/^Reentrancy in PositiveReentrancy\.withdraw\(\)/);
      expect(reentrancy.relatedLines).to.deep.equal([18, 19, 20, 21, 22, 23]);
    });

    it("maps Slither impacts to severities", function () {
      const sev = Object.fromEntries(findings.map((f) => [f.detector, f.severity]));
      expect(sev).to.deep.equal({
        "reentrancy-eth": "high",
        "tx-origin": "medium",
        "unchecked-lowlevel": "medium",
        "arbitrary-send-eth": "high",
        "missing-zero-check": "low",
        "solc-version": "info",
      });
    });

    it("drops results located only in dependencies", function () {
      expect(findings.map((f) => f.detector)).to.not.include("assembly");
      expect(findings.every((f) => !f.file.startsWith("node_modules/"))).to.equal(true);
    });

    it("refuses output that is not JSON, not Slither's format, or a failed run", function () {
      const opts = { cwd: ROOT, root: ROOT };
      expect(() => parseSlitherJson("Traceback (most recent call last):", opts)).to.throw(
        AuditError,
        "Slither output is not JSON",
      );
      expect(() => parseSlitherJson('{"results": []}', opts)).to.throw(AuditError, "does not match its JSON format");
      expect(() => parseSlitherJson(readFileSync(FAILURE, "utf8"), opts)).to.throw(
        AuditError,
        "Slither failed: Invalid compilation",
      );
    });
  });

  describe("runner", function () {
    it("finds no slither on a PATH without it, and the report says it plainly", async function () {
      expect(findSlither(pathWithoutSlither())).to.equal(undefined);
      const { report } = await runAudit({ target: `${FIXTURES}/imports`, root: ROOT, pathEnv: pathWithoutSlither() });
      expect(report.slither).to.deep.equal({
        status: "not-installed",
        message: "Slither: not installed (not run)",
        findings: 0,
      });
      expect(renderMarkdown(report)).to.contain("Slither: not installed (not run)");
    });

    it("spawns the slither found first on PATH with `<target> --json -` and parses its output", async function () {
      const fake = fakeSlither(OUTPUT);
      const pathEnv = [fake.dir, pathWithoutSlither()].join(delimiter);
      expect(findSlither(pathEnv)).to.equal(join(fake.dir, "slither"));
      const { status, findings } = await runSlither({ target: DETECTOR_FIXTURES, cwd: ROOT, root: ROOT, pathEnv });
      expect(readFileSync(fake.argsFile, "utf8").trim().split("\n")).to.deep.equal([DETECTOR_FIXTURES, "--json", "-"]);
      expect(status).to.deep.equal({ status: "ran", message: "Slither: ran (6 findings)", findings: 6 });
      expect(findings).to.have.length(6);
    });

    it("reports a failed Slither run without failing the audit", async function () {
      const fake = fakeSlither(FAILURE);
      const pathEnv = [fake.dir, pathWithoutSlither()].join(delimiter);
      const { report } = await runAudit({ target: `${FIXTURES}/imports`, root: ROOT, pathEnv });
      expect(report.slither.status).to.equal("failed");
      expect(report.slither.message).to.match(/^Slither: failed \(Slither failed: Invalid compilation/);
    });

    it("merges Slither findings with the built-in ones: same file, line and category reported once", async function () {
      const fake = fakeSlither(OUTPUT);
      const pathEnv = [fake.dir, pathWithoutSlither()].join(delimiter);
      const { report } = await runAudit({ target: DETECTOR_FIXTURES, root: ROOT, pathEnv, failOn: "none" });
      expect(report.slither.status).to.equal("ran");
      const at = (file: string, line: number) =>
        report.findings.filter((f) => f.file.endsWith(file) && f.line === line);

      const reentrancy = at("PositiveReentrancy.sol", 22);
      expect(reentrancy).to.have.length(1);
      expect(reentrancy[0]).to.include({ detector: "reentrancy", source: "builtin", severity: "high" });
      expect(reentrancy[0].alsoReportedBy).to.deep.equal(["slither:reentrancy-eth"]);
      expect(report.findings.filter((f) => f.detector === "reentrancy-eth")).to.deep.equal([]);

      const unchecked = at("PositiveUnchecked.sol", 9);
      expect(unchecked.map((f) => f.detector).sort()).to.deep.equal(["arbitrary-send-eth", "unchecked-call"]);
      expect(unchecked.find((f) => f.detector === "unchecked-call")!.alsoReportedBy).to.deep.equal([
        "slither:unchecked-lowlevel",
      ]);

      expect(at("PositiveTxOrigin.sol", 14).map((f) => [f.detector, f.severity])).to.deep.equal([
        ["tx-origin", "high"],
      ]);
      // Slither-only findings keep their own rule and source.
      const zero = report.findings.find((f) => f.detector === "missing-zero-check")!;
      expect(zero).to.include({ source: "slither", severity: "low", line: 10 });
      expect(zero.id).to.match(/^CCGP-missing-zero-check-[0-9a-f]{8}$/);
    });
  });
});
