import { expect } from "chai";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { runAudit } from "../../audit/src/audit";
import { AuditImportError } from "../../audit/src/errors";
import { chooseVersion, solidityPragmas } from "../../audit/src/solc/releases";
import { detectProject } from "../../audit/src/project";
import { FIXTURES, ROOT, envWithoutSlither, runCli, tempDir } from "./lib/helpers";

const VERSIONS = `${FIXTURES}/versions`;

/** Writes `files` (path -> content) under a new temporary folder and returns it. */
function project(files: Record<string, string>): string {
  const dir = tempDir("project");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const OWNABLE_4 = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;
abstract contract Ownable {
    address private _owner;
    constructor() { _owner = msg.sender; }
    modifier onlyOwner() { require(_owner == msg.sender, "Ownable: caller is not the owner"); _; }
    function ownerIsFour() public pure returns (bool) { return true; }
}
`;

const VAULT = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;
import "@openzeppelin/contracts/access/Ownable.sol";
contract Vault is Ownable {
    uint256 public limit;
    function setLimit(uint256 l) external onlyOwner { limit = l; }
}
`;

describe("audit sandbox: compiler per pragma and the audited project", function () {
  this.timeout(600_000);

  describe("compiler selection", function () {
    it("reads pragmas, comments aside", function () {
      expect(
        solidityPragmas("// pragma solidity 0.4.1;\npragma solidity >=0.6.0 <0.8.0;\n/* pragma solidity ^0.5.0; */"),
      ).to.deep.equal([">=0.6.0 <0.8.0"]);
    });

    it("takes the exact pin, the newest release of a range, and the project's configured version when it fits", function () {
      expect(chooseVersion(["0.8.18"])).to.deep.equal({ version: "0.8.18" });
      expect(chooseVersion(["=0.7.6"])).to.deep.equal({ version: "0.7.6" });
      expect(chooseVersion([">=0.4.22 <0.6.0"])).to.deep.equal({ version: "0.5.17" });
      expect(chooseVersion(["^0.4.24"])).to.deep.equal({ version: "0.4.26" });
      expect(chooseVersion(["^0.8.0", ">=0.8.20"], ["0.8.28"])).to.deep.equal({ version: "0.8.28" });
      expect(chooseVersion(["^0.8.0", "<0.8.20"], ["0.8.28"])).to.deep.equal({ version: "0.8.19" });
      expect(chooseVersion(["^0.8.0", "^0.7.0"]))
        .to.have.property("error")
        .that.contains("no solc release satisfies");
      expect(chooseVersion(["not a range"]))
        .to.have.property("error")
        .that.contains("is not a version range");
    });
  });

  it("compiles each file with its own solc (0.4 range, 0.5 pin, 0.6-0.7 range, 0.8 pin) and analyses all of them", async function () {
    const { report } = await runAudit({
      target: VERSIONS,
      exclude: [`${VERSIONS}/partial`],
      root: ROOT,
      slither: false,
    });
    expect(report.compilation.versions).to.deep.equal({
      [`${VERSIONS}/Legacy04.sol`]: "0.4.26",
      [`${VERSIONS}/Pinned05.sol`]: "0.5.17",
      [`${VERSIONS}/Pinned08.sol`]: "0.8.18",
      [`${VERSIONS}/Range07.sol`]: "0.7.6",
    });
    expect(report.compiler).to.equal("0.4.26, 0.5.17, 0.7.6, 0.8.18");
    expect(report.compilation.failures).to.deep.equal([]);
    const found = report.findings.map((f) => `${f.detector}@${f.file.split("/").pop()}:${f.line}`);
    // The detectors read old ASTs too: the 0.4 owner change and the 0.7 blockhash modulo.
    expect(found).to.include("unprotected-state-change@Legacy04.sol:11");
    expect(found).to.include("weak-randomness@Range07.sol:5");
  });

  it("reports a file that does not compile with solc's message and still analyses the rest; the CLI exits 4 (partial)", async function () {
    const { report } = await runAudit({ target: `${VERSIONS}/partial`, root: ROOT, slither: false });
    expect(report.compilation.failures.map((f) => f.file)).to.deep.equal([
      `${VERSIONS}/partial/Broken.sol`,
      `${VERSIONS}/partial/NoCompiler.sol`,
    ]);
    expect(report.compilation.failures[0].message).to.contain(`${VERSIONS}/partial/Broken.sol:5:9: TypeError`);
    expect(report.compilation.failures[1].message).to.contain("no solc release satisfies pragma solidity >=0.9.0");
    expect(report.findings.map((f) => `${f.detector}@${f.file}`)).to.deep.equal([
      `unprotected-state-change@${VERSIONS}/partial/Good.sol`,
    ]);
    const out = tempDir("partial");
    const run = runCli([`${VERSIONS}/partial`, "--fail-on", "none", "--out", out, "--quiet"], envWithoutSlither());
    expect(run.status, run.stderr).to.equal(4);
    expect(run.stdout).to.contain("PARTIAL: 2 of 3 files did not compile and were not analysed");
    expect(run.stdout).to.contain(`[did not compile] ${VERSIONS}/partial/Broken.sol`);
  });

  describe("project detection", function () {
    it("resolves packages from the audited project's own node_modules, never from the sandbox's", async function () {
      const dir = project({
        "package.json": "{}",
        "node_modules/@openzeppelin/contracts/access/Ownable.sol": OWNABLE_4,
        "contracts/Vault.sol": VAULT,
        "contracts/UsesMissing.sol": `pragma solidity ^0.8.0;\nimport "@openzeppelin/contracts/utils/Pausable.sol";\ncontract UsesMissing {}\n`,
      });
      const { report } = await runAudit({ target: join(dir, "contracts"), slither: false });
      expect(report.compilation.project).to.deep.equal({ root: "", kind: "npm", marker: "package.json" });
      expect(report.compilation.versions).to.have.property("contracts/Vault.sol");
      // Pausable exists in the sandbox's own node_modules (OpenZeppelin 5) but not in the project's.
      const missing = report.compilation.failures.find((f) => f.file === "contracts/UsesMissing.sol");
      expect(missing?.message).to.contain('missing import "@openzeppelin/contracts/utils/Pausable.sol"');
      expect(missing?.message).to.contain(
        "looked in node_modules/@openzeppelin/contracts/utils/Pausable.sol, @openzeppelin/contracts/utils/Pausable.sol",
      );
      expect(missing?.message).to.not.contain("..");
    });

    it("finds no project above a folder without one and resolves nothing from outside it", async function () {
      const dir = project({ "src/Vault.sol": VAULT });
      try {
        await runAudit({ target: join(dir, "src"), slither: false });
        expect.fail("expected a missing import");
      } catch (err) {
        expect(err).to.be.instanceOf(AuditImportError);
        expect((err as Error).message).to.not.contain("/work/");
      }
    });

    it("reads remappings.txt, foundry.toml libraries, --remap and --root", async function () {
      const foundry = project({
        "foundry.toml": '[profile.default]\nsrc = "src"\nlibs = ["lib"]\nsolc = "0.8.20"\n',
        "lib/oz/contracts/access/Ownable.sol": OWNABLE_4,
        "remappings.txt": "@openzeppelin/contracts/=lib/oz/contracts/\n",
        "src/Vault.sol": VAULT,
      });
      const detected = detectProject(join(foundry, "src"));
      expect(detected.kind).to.equal("foundry");
      expect(detected.compilers).to.deep.equal(["0.8.20"]);
      const a = await runAudit({ target: join(foundry, "src"), slither: false });
      expect(a.report.compilation.versions).to.deep.equal({ "src/Vault.sol": "0.8.20" });

      const plain = project({ "deps/oz/access/Ownable.sol": OWNABLE_4, "code/src/Vault.sol": VAULT });
      const b = await runAudit({
        target: join(plain, "code/src"),
        projectRoot: plain,
        remap: ["@openzeppelin/contracts/=deps/oz/"],
        slither: false,
      });
      expect(b.report.compilation.project.marker).to.equal("--root");
      expect(b.report.compilation.failures).to.deep.equal([]);
      expect(b.report.files).to.deep.equal(["code/src/Vault.sol"]);
    });
  });
});
