import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, toHex, type Hex } from "viem";
import { toWire, type SignedPacket } from "../../../lib/amdp";
import { RelayerStore } from "../../../relayer/src/store";
import { Journal, type NewEntry } from "../../../relayer/src/tx/journal";
import { expectCcgpError } from "../helpers/errors";

const h = (s: string): Hex => keccak256(toHex(s));
const sig = `0x${"11".repeat(32)}${"22".repeat(32)}1b` as Hex;
function signed(txId: Hex, sequence: bigint): SignedPacket {
  return {
    packet: {
      pipeId: h("pipe"),
      sourceInstitution: 4,
      targetInstitution: 5,
      targetService: h("svc"),
      contractName: h("name"),
      operation: 1,
      selector: "0x12345678",
      payloadHash: keccak256("0x12345678"),
      txId,
      sequence,
      deadline: 2_000_000_000n,
      signer: "0x00000000000000000000000000000000000000A1",
    },
    payload: "0x12345678",
    signatures: { app: sig },
  };
}
const entry = (txId: Hex, sequence: bigint, over: Partial<NewEntry> = {}): NewEntry => ({
  txId,
  role: "initiator",
  mode: "app",
  pipeId: h("pipe"),
  sequence,
  signed: signed(txId, sequence),
  plan: { steps: [{ side: 1, operation: 1, contractName: h("name"), data: "0x12345678" }], target: 0 },
  govFromBlock: 10n,
  subFromBlock: 20n,
  ...over,
});

describe("relayer/tx/journal", function () {
  let dir: string;
  let store: RelayerStore;
  let journal: Journal;
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), "ccgp-journal-"));
    store = RelayerStore.open({ path: join(dir, "j.sqlite") });
    journal = new Journal(store);
  });
  afterEach(function () {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps a transaction across a reopen, with its packet, plan and heights", function () {
    expect(journal.insert(entry(h("t1"), 1n))).to.equal(true);
    store.close();
    store = RelayerStore.open({ path: join(dir, "j.sqlite") });
    journal = new Journal(store);
    const got = journal.require(h("t1"), "initiator");
    expect(got).to.deep.include({
      status: "accepted",
      sequence: 1n,
      govFromBlock: 10n,
      subFromBlock: 20n,
      ledgerState: 0,
    });
    expect(got.signed).to.deep.equal(signed(h("t1"), 1n));
    expect(got.plan.steps[0]!.contractName).to.equal(h("name"));
  });

  it("refuses a second row for the same transaction and role, or the same pipe sequence", function () {
    expect(journal.insert(entry(h("t1"), 1n))).to.equal(true);
    expect(journal.insert(entry(h("t1"), 2n))).to.equal(false);
    expect(journal.insert(entry(h("t2"), 1n))).to.equal(false);
    // The other side of the same transaction is another row.
    expect(journal.insert(entry(h("t1"), 1n, { role: "receiver", mode: "peer" }))).to.equal(true);
    expect(
      journal
        .find(h("t1"))
        .map((e) => e.role)
        .sort(),
    ).to.deep.equal(["initiator", "receiver"]);
  });

  it("tracks progress and lists what is unfinished", async function () {
    journal.insert(entry(h("t1"), 1n));
    journal.insert(entry(h("t2"), 2n));
    journal.insert(entry(h("t3"), 3n));
    journal.update(h("t1"), "initiator", { status: "opened", ledgerState: 1 });
    journal.update(h("t2"), "initiator", { status: "finished", result: { ok: 1n } });
    journal.update(h("t3"), "initiator", { status: "failed", error: "refused" });
    expect(journal.unfinished().map((e) => e.txId)).to.deep.equal([h("t1")]);
    expect(journal.require(h("t2"), "initiator").result).to.deep.equal({ ok: "1" });
    expect(journal.require(h("t3"), "initiator").error).to.equal("refused");
    await expectCcgpError(() => journal.update(h("nope"), "initiator", {}), "JOURNAL_UNKNOWN_TX");
  });

  it("knows the highest sequence of a pipe and which transactions still wait to open, lowest first", function () {
    journal.insert(entry(h("t2"), 5n));
    journal.insert(entry(h("t1"), 3n));
    expect(journal.maxSequence(h("pipe"))).to.equal(5n);
    expect(journal.maxSequence(h("other"))).to.equal(0n);
    journal.insert(entry(h("t0"), 2n));
    expect(journal.unopened(h("pipe")).map((e) => e.sequence)).to.deep.equal([2n, 3n, 5n]);
    journal.update(h("t1"), "initiator", { status: "opened" });
    expect(journal.unopened(h("pipe")).map((e) => e.sequence)).to.deep.equal([2n, 5n]);
    expect(journal.unopened(h("other"))).to.deep.equal([]);
  });

  it("counts the last packet of a plan with several target steps in the highest sequence, by value not by text", function () {
    journal.insert(entry(h("t1"), 9n));
    const steps = [
      { side: 1, operation: 0, contractName: h("name"), data: "0x12345678" as Hex },
      { side: 1, operation: 1, contractName: h("name"), data: "0x12345678" as Hex, packet: 1 },
    ];
    journal.insert(entry(h("t2"), 10n, { plan: { steps, target: 0, packets: [toWire(signed(h("t2"), 12n))] } }));
    expect(journal.maxSequence(h("pipe"))).to.equal(12n);
    journal.insert(entry(h("t3"), 100n));
    expect(journal.maxSequence(h("pipe"))).to.equal(100n);
  });

  it("re-sequences a transaction that is not open yet", function () {
    journal.insert(entry(h("t1"), 3n));
    journal.resequence(h("t1"), signed(h("t1"), 9n));
    expect(journal.require(h("t1"), "initiator").sequence).to.equal(9n);
    expect(journal.require(h("t1"), "initiator").signed.packet.sequence).to.equal(9n);
  });
});
