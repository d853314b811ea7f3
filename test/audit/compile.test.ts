import { expect } from "chai";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runAudit } from "../../audit/src/audit";
import { compileSources, lineColumnOf, lineStartsOf } from "../../audit/src/compile";
import { AuditCompileError, AuditImportError, AuditInputError } from "../../audit/src/errors";
import { collectSolidityFiles } from "../../audit/src/sources";
import { FIXTURES, ROOT, pathWithoutSlither, tempDir } from "./lib/helpers";

async function expectInputError(
  target: string,
  type: typeof AuditInputError,
  ...fragments: string[]
): Promise<AuditInputError> {
  try {
    await runAudit({ target, root: ROOT, slither: false, pathEnv: pathWithoutSlither() });
  } catch (err) {
    expect(err).to.be.instanceOf(type);
    for (const f of fragments) expect((err as Error).message).to.contain(f);
    return err as AuditInputError;
  }
  throw new Error(`expected ${type.name} for ${target}`);
}

describe("audit sandbox: sources and compilation", function () {
  it("resolves relative imports (./ and ../) and packages from node_modules (@openzeppelin/contracts)", function () {
    const { files } = collectSolidityFiles(`${FIXTURES}/imports`, ROOT);
    const result = compileSources(files, ROOT);
    const byPath = new Map(result.units.map((u) => [u.relPath, u]));
    expect(byPath.get(`${FIXTURES}/imports/Main.sol`)?.isTarget).to.equal(true);
    expect(byPath.get(`${FIXTURES}/imports/lib/Helper.sol`)?.isTarget).to.equal(true);
    expect(byPath.get(`${FIXTURES}/imports/Constants.sol`)?.isTarget).to.equal(true);
    const ownable = byPath.get("node_modules/@openzeppelin/contracts/access/Ownable.sol");
    expect(ownable?.isTarget).to.equal(false);
    expect(ownable?.unitName).to.equal("@openzeppelin/contracts/access/Ownable.sol");
    expect(result.solcVersion).to.match(/^0\.8\.28/);
    for (const u of result.units) expect(u.ast.nodeType).to.equal("SourceUnit");
  });

  it("compiles an imported file that lies outside the audited folder without reporting on it", async function () {
    const { report } = await runAudit({
      target: `${FIXTURES}/imports/lib`,
      root: ROOT,
      slither: false,
      pathEnv: pathWithoutSlither(),
    });
    expect(report.files).to.deep.equal([`${FIXTURES}/imports/lib/Helper.sol`]);
  });

  it("refuses a file that does not parse, naming file:line:column and solc's message", async function () {
    const err = await expectInputError(
      `${FIXTURES}/errors/parse`,
      AuditCompileError,
      "solc could not compile the sources (1 error)",
    );
    expect(err.details).to.equal(`${FIXTURES}/errors/parse/Broken.sol:9:5: ParserError: Expected ';' but got '}'`);
  });

  it("refuses a type error with its location", async function () {
    const err = await expectInputError(`${FIXTURES}/errors/type`, AuditCompileError, "TypeError");
    expect(err.details).to.match(
      /^audit\/test\/fixtures\/errors\/type\/TypeMismatch\.sol:6:16: TypeError: Return argument type/,
    );
  });

  it("refuses a missing relative import, naming the import and where it was imported", async function () {
    const err = await expectInputError(
      `${FIXTURES}/errors/missing-import`,
      AuditImportError,
      'missing import "./DoesNotExist.sol"',
    );
    expect(err.details).to.contain(`imported at ${FIXTURES}/errors/missing-import/UsesMissing.sol:4:1`);
    expect(err.details).to.contain(`looked in ${FIXTURES}/errors/missing-import/DoesNotExist.sol`);
  });

  it("refuses a package import that is not installed, naming it and the node_modules searched", async function () {
    const err = await expectInputError(
      `${FIXTURES}/errors/missing-package`,
      AuditImportError,
      'missing import "@ccgp/not-installed/contracts/Thing.sol"',
    );
    expect(err.details).to.contain("node_modules/@ccgp/not-installed/contracts/Thing.sol");
  });

  it("refuses a path that does not exist", async function () {
    await expectInputError(
      "contracts/does-not-exist",
      AuditInputError,
      "path does not exist: contracts/does-not-exist",
    );
  });

  it("refuses an empty folder and a folder without .sol files", async function () {
    const empty = tempDir("empty");
    await expectInputError(empty, AuditInputError, `no .sol files found in ${empty}`);
    writeFileSync(join(empty, "notes.txt"), "not solidity");
    mkdirSync(join(empty, "sub"));
    await expectInputError(empty, AuditInputError, "no .sol files found");
  });

  it("refuses a file that is not a .sol file", async function () {
    await expectInputError(`${FIXTURES}/errors/README.md`, AuditInputError, "not a Solidity file (expected .sol)");
  });

  it("excludes folders (contracts/mocks style) and says so when nothing is left", function () {
    const all = collectSolidityFiles(`${FIXTURES}/imports`, ROOT).files;
    const some = collectSolidityFiles(`${FIXTURES}/imports`, ROOT, [`${FIXTURES}/imports/lib`]).files;
    expect(all).to.have.length(3);
    expect(some).to.have.length(2);
    expect(() => collectSolidityFiles(`${FIXTURES}/imports/lib`, ROOT, [`${FIXTURES}/imports/lib`])).to.throw(
      AuditInputError,
      `no .sol files found in ${FIXTURES}/imports/lib (after excluding ${FIXTURES}/imports/lib)`,
    );
  });

  it("compiles a large tree in several solc runs and finds the same as one run", async function () {
    const opts = { target: "audit/test/fixtures/detectors", root: ROOT, slither: false, pathEnv: pathWithoutSlither() };
    const single = await runAudit(opts);
    const split = await runAudit({ ...opts, maxFilesPerRun: 3 });
    expect(single.stats.files).to.be.greaterThan(9);
    expect(split.report.findings).to.deep.equal(single.report.findings);
    expect(split.stats.importedFiles).to.equal(single.stats.importedFiles);
  });

  it("maps solc byte offsets to lines and columns, multi-byte characters included", function () {
    const text = "a\n// é\nb";
    const starts = lineStartsOf(text);
    expect(starts).to.deep.equal([0, 2, 8]);
    expect(lineColumnOf(starts, 0)).to.deep.equal({ line: 1, column: 1 });
    expect(lineColumnOf(starts, 8)).to.deep.equal({ line: 3, column: 1 });
    expect(lineColumnOf(starts, 5)).to.deep.equal({ line: 2, column: 4 });
  });
});
