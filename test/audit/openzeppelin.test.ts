import { expect } from "chai";
import { runAudit } from "../../audit/src/audit";
import { NO_SLITHER, ROOT } from "./lib/helpers";

describe("audit sandbox: OpenZeppelin Contracts (the package npm ci installs)", function () {
  this.timeout(900_000);

  it("gives no high or medium finding", async function () {
    const { report } = await runAudit({
      target: "node_modules/@openzeppelin/contracts",
      root: ROOT,
      failOn: "none",
      ...NO_SLITHER,
    });
    expect(report.compilation.failures).to.deep.equal([]);
    const serious = report.findings
      .filter((f) => f.severity === "high" || f.severity === "medium")
      .map((f) => `${f.detector}@${f.file.replace("node_modules/@openzeppelin/contracts/", "")}:${f.line}`)
      .sort();
    expect(serious).to.deep.equal([]);
  });
});
