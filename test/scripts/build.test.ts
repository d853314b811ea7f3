import { expect } from "chai";
import { NODE_FLAGS, builtProcess, distEntry } from "../../scripts/build";

/** The node flags each process starts with (the relayer's capped young generation). */
describe("scripts/build: the processes' node flags", function () {
  it("starts a relayer with its young generation capped, the flags before its entry, and no other process so", function () {
    const relayer = builtProcess("relayer");
    expect(relayer).to.deep.equal(["--max-semi-space-size=4", "--enable-source-maps", distEntry("relayer")]);
    expect(builtProcess("verifier")).to.deep.equal(["--enable-source-maps", distEntry("verifier")]);
    expect(Object.keys(NODE_FLAGS)).to.deep.equal(["relayer"]);
  });
});
