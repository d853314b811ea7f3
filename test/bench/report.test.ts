import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareSnapshot, readSnapshot, writeSnapshot } from "../../bench/lib/report";

/** The gas snapshot comparison CI relies on: a rise above 2% fails, and so does a figure gone or new. */
describe("bench: gas snapshot comparison", function () {
  const snapshot = { "a.vote": 40_000, "b.execute": 100_000 };

  it("accepts figures at or within 2% above the snapshot, and any fall", function () {
    expect(compareSnapshot({ "a.vote": 40_800, "b.execute": 50_000 }, snapshot)).to.deep.equal([]);
  });

  it("names a figure that rose more than 2%", function () {
    expect(compareSnapshot({ "a.vote": 40_801, "b.execute": 100_000 }, snapshot)).to.deep.equal([
      "a.vote: 40801 gas, up 2.00% from 40000",
    ]);
  });

  it("names figures no longer measured and figures not in the snapshot", function () {
    expect(compareSnapshot({ "a.vote": 40_000, "c.new": 1 }, snapshot)).to.deep.equal([
      "b.execute: in the snapshot but no longer measured",
      "c.new: measured but not in the snapshot (run npm run gas:snapshot)",
    ]);
  });

  it("writes sorted figures and reads them back", function () {
    const path = join(mkdtempSync(join(tmpdir(), "ccgp-gas-")), "gas.json");
    writeSnapshot({ z: 1, a: 2 }, path);
    expect(Object.keys(readSnapshot(path))).to.deep.equal(["a", "z"]);
    expect(readSnapshot(join(tmpdir(), "does-not-exist.json"))).to.deep.equal({});
  });
});
