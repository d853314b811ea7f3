import { expect } from "chai";
import { chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runAudit } from "../../audit/src/audit";
import { AuditError } from "../../audit/src/errors";
import { renderMarkdown } from "../../audit/src/report/markdown";
import { compileSources } from "../../audit/src/compile";
import { renderSarif } from "../../audit/src/report/sarif";
import { findSlither, parseSlitherJson, writeBuildInfo } from "../../audit/src/slither";
import { DETECTOR_FIXTURES, FIXTURES, NO_SLITHER, ROOT, pathWithoutSlither, tempDir } from "./lib/helpers";

const OUTPUT = join(ROOT, FIXTURES, "slither/slither-output.json");
const FAILURE = join(ROOT, FIXTURES, "slither/slither-failure.json");

/** A stand-in for a broken Slither installation: it prints a recorded failure output. */
function brokenSlitherVenv(jsonFile: string): string {
  const venv = tempDir("broken-slither");
  mkdirSync(join(venv, "bin"));
  const script = join(venv, "bin", "slither");
  writeFileSync(script, `#!/bin/sh\necho 'Traceback: crytic-compile failed' >&2\ncat '${jsonFile}'\nexit 1\n`);
  chmodSync(script, 0o755);
  return venv;
}

/** Skips on a laptop without Slither (saying so); in CI, Slither must be there. */
function requireSlither(ctx: Mocha.Context): void {
  if (findSlither()) return;
  if (process.env.CI) throw new Error("Slither is not installed: CI runs scripts/setup-slither.sh before the tests");
  console.log("      (Slither is not installed: `npm run setup:slither` installs it; skipping the real-Slither tests)");
  ctx.skip();
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

  describe("runner (the real Slither, fed the sandbox's compilation)", function () {
    this.timeout(600_000);

    it("finds no Slither when neither the project's venv nor PATH has one, and the report says it plainly", async function () {
      expect(findSlither(pathWithoutSlither(), "/nonexistent-venv")).to.equal(undefined);
      const { report } = await runAudit({ target: `${FIXTURES}/imports`, root: ROOT, ...NO_SLITHER });
      expect(report.slither.status).to.equal("not-installed");
      expect(report.slither.message).to.equal("Slither: not installed (not run; `npm run setup:slither` installs it)");
      expect(renderMarkdown(report)).to.contain("Slither: not installed (not run;");
    });

    it("writes a Hardhat build-info folder with absolute unit names that crytic-compile reads without compiling", async function () {
      const compiled = compileSources([join(ROOT, FIXTURES, "imports/Main.sol")], ROOT);
      const dir = tempDir("build-info");
      writeBuildInfo(compiled.runs, dir);
      const [file] = readdirSync(join(dir, "artifacts/build-info"));
      const info = JSON.parse(readFileSync(join(dir, "artifacts/build-info", file), "utf8"));
      expect(info.solcVersion).to.equal("0.8.28");
      const names = Object.keys(info.output.sources);
      expect(names.every((n: string) => n.startsWith("/"))).to.equal(true);
      expect(names).to.include(join(ROOT, "node_modules/@openzeppelin/contracts/access/Ownable.sol"));
      expect(Object.keys(info.input.sources).sort()).to.deep.equal([...names].sort());
    });

    it("runs Slither on the detector fixtures and merges: one finding per place and class, each tool named", async function () {
      requireSlither(this);
      const { report } = await runAudit({ target: `${DETECTOR_FIXTURES}/reentrancy`, root: ROOT, failOn: "none" });
      expect(report.slither.status, report.slither.message).to.equal("ran");
      const at = (line: number) =>
        report.findings.filter((f) => f.file.endsWith("PositiveReentrancy.sol") && f.line === line);
      const reentrancy = at(22).filter((f) => f.detector === "reentrancy" || f.detector.startsWith("reentrancy-"));
      expect(reentrancy).to.have.length(1);
      expect(reentrancy[0]).to.include({ detector: "reentrancy", source: "builtin", severity: "high" });
      expect(reentrancy[0].alsoReportedBy).to.deep.equal(["slither:reentrancy-eth"]);
      // Slither-only findings keep their check and say they come from Slither.
      const only = report.findings.filter((f) => f.source === "slither");
      expect(only.length).to.be.greaterThan(0);
      for (const f of only) expect(f.title).to.match(/^Slither: /);
      const sarif = JSON.parse(renderSarif(report));
      const rule = sarif.runs[0].tool.driver.rules.find((r: { id: string }) => r.id === only[0].detector);
      expect(rule.properties.source).to.equal("slither");
      expect(renderMarkdown(report)).to.contain("also reported by slither:reentrancy-eth");
      // Descriptions name files relative to the audit root, not the temporary build folder.
      for (const f of only) expect(f.description).to.not.contain("ccgp-slither-");
    });

    it("analyses a 0.4 contract from the sandbox's build-info, with no compiler download of its own", async function () {
      requireSlither(this);
      const { report } = await runAudit({
        target: `${FIXTURES}/versions`,
        exclude: [`${FIXTURES}/versions/partial`],
        root: ROOT,
        failOn: "none",
      });
      expect(report.slither.status, report.slither.message).to.equal("ran");
      const files = new Set(
        report.findings.filter((f) => f.source === "slither" || f.alsoReportedBy).map((f) => f.file),
      );
      expect([...files]).to.include(`${FIXTURES}/versions/Legacy04.sol`);
    });

    it("reports a failed Slither run without failing the audit", async function () {
      const venv = brokenSlitherVenv(FAILURE);
      const { report } = await runAudit({
        target: `${FIXTURES}/imports`,
        root: ROOT,
        pathEnv: pathWithoutSlither(),
        slitherVenv: venv,
      });
      expect(report.slither.status).to.equal("failed");
      expect(report.slither.message).to.match(/^Slither: failed \(Slither failed: Invalid compilation/);
    });
  });
});
