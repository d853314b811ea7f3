import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../../scripts/lib/local/relayers";

/** `npm start`'s compile step (scripts/compile.ts) in `cwd`: its exit code and output. */
function compile(cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", join(REPO_ROOT, "scripts", "compile.ts")],
      { cwd, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.once("close", (code) => resolve({ code, output }));
  });
}

/**
 * The compile step reports Hardhat's real phases as they happen: a project of two contracts, with the repository's
 * own Hardhat config, compiled from scratch and then again with nothing to do.
 */
describe("npm start's compile step shows the compile's progress", function () {
  this.timeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), "ccgp-compile-"));

  before(() => {
    mkdirSync(join(dir, "contracts"));
    writeFileSync(
      join(dir, "contracts", "Counter.sol"),
      "// SPDX-License-Identifier: Apache-2.0\npragma solidity 0.8.28;\ncontract Counter { uint256 public n; function up() external { n++; } }\n",
    );
    writeFileSync(
      join(dir, "contracts", "Store.sol"),
      "// SPDX-License-Identifier: Apache-2.0\npragma solidity 0.8.28;\ncontract Store { bytes32 public v; function set(bytes32 x) external { v = x; } }\n",
    );
    writeFileSync(
      join(dir, "hardhat.config.ts"),
      `export { default } from ${JSON.stringify(join(REPO_ROOT, "hardhat.config"))};\n`,
    );
    symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ extends: join(REPO_ROOT, "tsconfig.json"), include: ["hardhat.config.ts"] }),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("names each phase: sources found, the solc job with its files, artifacts written, typechain; then nothing to do", async () => {
    const first = await compile(dir);
    expect(first.code, first.output).to.equal(0);
    const lines = first.output.split("\n").map((l) => l.trim());
    const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
    const phases = [
      /^2 project source files found$/,
      /^solc 0\.8\.28: job 1 of 1, 2 files$/,
      /^solc job 1 of 1 done \(\d+ s\)$/,
      /^2 contract artifacts written$/,
      /^typechain: writing/,
      /^typechain: done/,
      /^compiled \(\d+ s\)$/,
    ];
    const found = phases.map(at);
    expect(found, first.output).to.not.include(-1);
    expect(
      [...found].sort((a, b) => a - b),
      "in the order they happen",
    ).to.deep.equal(found);
    const again = await compile(dir);
    expect(again.code).to.equal(0);
    expect(again.output).to.include("nothing to compile: the artifacts are up to date").and.not.include("solc 0.8.28");
  });
});
