import { expect } from "chai";
import type { Hex } from "viem";
import { AttestationsAhead } from "../../../relayer/src/attest/ahead";

/** The collections a target relayer starts when a packet's signatures check out, taken by the step. */
describe("attester: collections started ahead of the step", () => {
  let now = 0;
  const clock = () => now;
  const packed = (n: number) => `0x${n.toString(16).padStart(4, "0")}` as Hex;

  beforeEach(() => (now = 1_000));

  it("is taken once, by the same key only: a retried step or another request collects afresh", async () => {
    const ahead = new AttestationsAhead(60_000, 10, clock);
    let started = 0;
    expect(ahead.start("a", async () => (started++, packed(1)))).to.equal(true);
    // The second delivery of a packet must not drop the first one's collection when it is refused: it started none.
    expect(ahead.start("a", async () => (started++, packed(2)))).to.equal(false);
    expect(started, "a second start under a key held is a no-op").to.equal(1);
    expect(ahead.take("b")).to.equal(undefined);
    expect(await ahead.take("a")).to.equal(packed(1));
    expect(ahead.take("a")).to.equal(undefined);
    expect(ahead.size).to.equal(0);
  });

  it("hands a failed collection to the step (which collects again), and an untaken failure raises nothing", async () => {
    const ahead = new AttestationsAhead(60_000, 10, clock);
    ahead.start("a", async () => {
      throw new Error("ATTESTATIONS_INSUFFICIENT");
    });
    ahead.start("untaken", async () => {
      throw new Error("never taken");
    });
    await expect(ahead.take("a")).to.be.rejectedWith("ATTESTATIONS_INSUFFICIENT");
    await new Promise((r) => setImmediate(r));
  });

  it("drops what nobody took past its time, and the oldest past its bound", async () => {
    const ahead = new AttestationsAhead(1_000, 2, clock);
    ahead.start("old", async () => packed(1));
    now += 1_001;
    expect(ahead.take("old"), "past its time").to.equal(undefined);
    ahead.start("x", async () => packed(2));
    ahead.start("y", async () => packed(3));
    ahead.start("z", async () => packed(4));
    expect(ahead.size).to.equal(2);
    expect(ahead.take("x"), "the oldest, past the bound").to.equal(undefined);
    expect(await ahead.take("z")).to.equal(packed(4));
  });
});
