import { expect } from "chai";
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, toHex, type Hex } from "viem";
import { inboxKey, RelayerStore, type OutboxInput } from "../../../relayer/src/store";
import { expectCcgpError, ManualClock } from "../helpers/errors";

const hash = (height: number, fork = ""): Hex => keccak256(toHex(`${fork}${height}`));
const packet = (id: string, payload: unknown = { id }): OutboxInput => ({ id, kind: "packet", payload });

describe("relayer/store", function () {
  let dir: string;
  let clock: ManualClock;
  let store: RelayerStore;
  const open = (): RelayerStore =>
    RelayerStore.open({
      path: join(dir, "s.sqlite"),
      clock: clock.read,
      leaseMs: 1_000,
      maxAttempts: 3,
      recentBlocks: 4,
    });

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), "ccgp-store-"));
    clock = new ManualClock();
    store = open();
  });
  afterEach(function () {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("durability policy", function () {
    const level = (): number => Number(store.db.pragma("synchronous", { simple: true }));

    it("opens in WAL mode with synchronous=NORMAL for bookkeeping commits", function () {
      expect(store.db.pragma("journal_mode", { simple: true })).to.equal("wal");
      expect(level()).to.equal(1);
      store.transaction(() => expect(level()).to.equal(1));
    });

    it("commits a durable transaction with synchronous=FULL, then returns to NORMAL", function () {
      const seen = store.durably(() => {
        store.enqueue(packet("d1"));
        return level();
      });
      expect([seen, level()]).to.deep.equal([2, 1]);
      store.close();
      store = open();
      expect(store.getOutbox("d1")?.id).to.equal("d1");
    });

    it("returns to NORMAL after a durable transaction that throws, and rolls it back", function () {
      expect(() =>
        store.durably(() => {
          store.enqueue(packet("d2"));
          throw new Error("boom");
        }),
      ).to.throw("boom");
      expect([level(), store.getOutbox("d2")]).to.deep.equal([1, null]);
    });

    it("refuses a durable transaction nested in another one", async function () {
      await expectCcgpError(() => store.transaction(() => store.durably(() => 1)), "STORE_DURABLE_NESTED");
    });

    it("records a block (a chain checkpoint) durably: never inside another transaction", async function () {
      await expectCcgpError(
        () => store.transaction(() => store.recordBlock("c", 1n, hash(1), [packet("b1")])),
        "STORE_DURABLE_NESTED",
      );
      expect(store.recordBlock("c", 1n, hash(1), [packet("b1")])).to.deep.equal({ inserted: 1, duplicates: 0 });
    });
  });

  describe("checkpoints and recordBlock", function () {
    it("records items and advances the checkpoint together, and survives a reopen", function () {
      expect(store.checkpoint("sub_a")).to.equal(null);
      expect(store.recordBlock("sub_a", 5n, hash(5), [packet("a"), packet("b", { n: 12n })])).to.deep.equal({
        inserted: 2,
        duplicates: 0,
      });
      store.recordBlock("sub_a", 9n, hash(9), []);
      store.close();
      store = open();
      expect(store.checkpoint("sub_a")).to.deep.equal({ height: 9n, hash: hash(9) });
      expect(store.getOutbox("b")).to.deep.include({
        kind: "packet",
        status: "pending",
        payload: { n: "12" },
        source: { chain: "sub_a", height: 5n, blockHash: hash(5) },
      });
      expect(store.checkpoint("other")).to.equal(null);
    });

    it("rolls the whole batch back when one item fails: the checkpoint does not move", async function () {
      store.recordBlock("sub_a", 1n, hash(1), [packet("a")]);
      const bad = { id: "z", kind: "bogus", payload: {} } as unknown as OutboxInput;
      let thrown: unknown;
      try {
        store.recordBlock("sub_a", 2n, hash(2), [packet("x"), bad]);
      } catch (error) {
        thrown = error;
      }
      expect(String(thrown)).to.include("CHECK constraint failed");
      expect(store.getOutbox("x")).to.equal(null);
      expect(store.checkpoint("sub_a")).to.deep.equal({ height: 1n, hash: hash(1) });
    });

    it("refuses a block at or below the checkpoint", async function () {
      store.recordBlock("sub_a", 3n, hash(3), []);
      const error = await expectCcgpError(
        () => store.recordBlock("sub_a", 3n, hash(3), []),
        "STORE_CHECKPOINT_REGRESSION",
      );
      expect(error.message).to.include("block 3 is not above the checkpoint 3");
    });

    it("counts an item already in the outbox as a duplicate and keeps it as it was", function () {
      store.recordBlock("sub_a", 1n, hash(1), [packet("a", { v: 1 })]);
      expect(store.recordBlock("sub_a", 2n, hash(2), [packet("a", { v: 2 })])).to.deep.equal({
        inserted: 0,
        duplicates: 1,
      });
      expect(store.getOutbox("a")!.payload).to.deep.equal({ v: 1 });
    });

    it("remembers only the most recent blocks", function () {
      for (let h = 1; h <= 6; h++) store.recordBlock("sub_a", BigInt(h), hash(h), []);
      expect(store.recentBlocks("sub_a").map((b) => b.height)).to.deep.equal([3n, 4n, 5n, 6n]);
    });
  });

  describe("rewind after a reorg", function () {
    beforeEach(function () {
      store.recordBlock("sub_a", 10n, hash(10), [packet("p10")]);
      store.recordBlock("sub_a", 11n, hash(11), [packet("p11")]);
      store.recordBlock("sub_a", 12n, hash(12), [packet("p12a"), packet("p12b")]);
    });

    it("orphans pending items of removed blocks, reports claimed ones, and moves the checkpoint back", function () {
      const claimed = store.claimDue(clock.now, 10);
      expect(claimed.map((i) => i.id)).to.deep.equal(["p10", "p11", "p12a", "p12b"]);
      store.markDone("p12b");
      store.enqueue(packet("p12a-retry")); // not from a block: untouched by rewinds
      const result = store.rewind("sub_a", 11n);
      expect(result.checkpoint).to.deep.equal({ height: 10n, hash: hash(10) });
      expect(result.orphaned).to.equal(0); // all were claimed
      expect(result.inFlight.map((i) => [i.id, i.status])).to.deep.equal([
        ["p11", "sent"],
        ["p12a", "sent"],
        ["p12b", "done"],
      ]);
      expect(store.recentBlocks("sub_a").map((b) => b.height)).to.deep.equal([10n]);
    });

    it("orphans never-sent items, then revives one re-included by the new chain", function () {
      const result = store.rewind("sub_a", 12n);
      expect(result.orphaned).to.equal(2);
      expect(store.getOutbox("p12a")!.status).to.equal("orphaned");
      expect(store.pendingCount()).to.equal(2);
      // The new chain re-includes p12a in a different block; p12b is gone for good.
      expect(store.recordBlock("sub_a", 12n, hash(12, "fork"), [packet("p12a", { again: true })])).to.deep.equal({
        inserted: 1,
        duplicates: 0,
      });
      expect(store.getOutbox("p12a")).to.deep.include({
        status: "pending",
        payload: { again: true },
        source: { chain: "sub_a", height: 12n, blockHash: hash(12, "fork") },
      });
      expect(store.getOutbox("p12b")!.status).to.equal("orphaned");
      expect(store.checkpoint("sub_a")).to.deep.equal({ height: 12n, hash: hash(12, "fork") });
    });

    it("refuses a rewind below every remembered block", async function () {
      await expectCcgpError(() => store.rewind("sub_a", 10n), "STORE_REWIND_TOO_DEEP");
      expect(store.checkpoint("sub_a")!.height).to.equal(12n);
    });
  });

  it("opens a store of schema 1: its checkpoints and remembered blocks carry over, its outbox too", function () {
    store.close();
    const path = join(dir, "v1.sqlite");
    // The tables schema 1 had for the chain positions, as that version wrote them.
    const v1 = new Database(path);
    v1.exec(`
      CREATE TABLE checkpoints (chain TEXT PRIMARY KEY, height INTEGER NOT NULL, block_hash TEXT NOT NULL,
        updated_at INTEGER NOT NULL) STRICT;
      CREATE TABLE recent_blocks (chain TEXT NOT NULL, height INTEGER NOT NULL, block_hash TEXT NOT NULL,
        PRIMARY KEY (chain, height)) STRICT;
    `);
    v1.prepare("INSERT INTO checkpoints VALUES ('sub_a', 12, ?, 5)").run(hash(12));
    for (const h of [11, 12]) v1.prepare("INSERT INTO recent_blocks VALUES ('sub_a', ?, ?)").run(h, hash(h));
    v1.pragma("user_version = 1");
    v1.close();
    store = RelayerStore.open({ path, clock: clock.read, recentBlocks: 4 });
    expect(store.db.pragma("user_version", { simple: true })).to.equal(2n);
    expect(store.checkpoint("sub_a")).to.deep.equal({ height: 12n, hash: hash(12) });
    expect(store.recentBlocks("sub_a").map((b) => b.height)).to.deep.equal([11n, 12n]);
    expect(store.rewind("sub_a", 12n).checkpoint).to.deep.equal({ height: 11n, hash: hash(11) });
    expect(store.recordBlock("sub_a", 12n, hash(12, "fork"), [packet("after")]).inserted).to.equal(1);
  });

  describe("outbox delivery", function () {
    beforeEach(function () {
      for (const id of ["a", "b", "c"]) store.enqueue(packet(id));
      clock.advance(1);
    });

    it("claims due items oldest first, leasing them", function () {
      const first = store.claimDue(clock.now, 2);
      expect(first.map((i) => [i.id, i.status, i.attempts])).to.deep.equal([
        ["a", "sent", 0],
        ["b", "sent", 0],
      ]);
      expect(store.claimDue(clock.now, 10).map((i) => i.id)).to.deep.equal(["c"]);
      expect(store.claimDue(clock.now, 10)).to.deep.equal([]);
      expect(store.pendingCount()).to.equal(3);
    });

    it("hands a claimed item out again when its worker's lease runs out", function () {
      store.claimDue(clock.now, 1);
      clock.advance(999);
      expect(store.claimDue(clock.now, 1).map((i) => i.id)).to.deep.equal(["b"]);
      clock.advance(1);
      const again = store.claimDue(clock.now, 10);
      // A claim whose worker died is not an attempt: nothing failed.
      expect(again.map((i) => [i.id, i.attempts])).to.deep.equal([
        ["c", 0],
        ["a", 0],
      ]);
    });

    it("re-arms a done item (its write undone by a reorg) only when it was done before the bound, afresh", function () {
      store.claimDue(clock.now, 10);
      store.markDone("a");
      store.markFailed("b", { error: "refused", retryAt: null });
      const doneAt = clock.now;
      clock.advance(100);
      // Done at or after the bound: too recent to be redone; pending, sent, failed and unknown items: never.
      expect(store.rearm("a", doneAt)).to.equal(false);
      expect(store.rearm("b", clock.now)).to.equal(false);
      expect(store.rearm("c", clock.now)).to.equal(false);
      expect(store.rearm("nope", clock.now)).to.equal(false);
      expect(store.getOutbox("a")!.status).to.equal("done");
      expect(store.rearm("a", doneAt + 1)).to.equal(true);
      expect(store.getOutbox("a")).to.deep.include({ status: "pending", attempts: 0, nextAttemptAt: clock.now });
      expect(store.claimDue(clock.now, 10).map((i) => i.id)).to.include("a");
      expect(store.rearm("a", clock.now + 1)).to.equal(false); // claimed again: not done
    });

    it("retries a failed item at the given time, up to the attempt bound", function () {
      store.claimDue(clock.now, 1);
      expect(store.markFailed("a", { error: "rpc timeout", retryAt: clock.now + 500 })).to.equal("pending");
      expect(store.getOutbox("a")).to.deep.include({
        status: "pending",
        lastError: "rpc timeout",
        nextAttemptAt: clock.now + 500,
      });
      expect(store.claimDue(clock.now + 499, 10).map((i) => i.id)).to.deep.equal(["b", "c"]);
      expect(store.claimDue(clock.now + 500, 10).map((i) => i.id)).to.deep.equal(["a"]);
      expect(store.markFailed("a", { error: "again", retryAt: clock.now + 600 })).to.equal("pending");
      store.claimDue(clock.now + 600, 1);
      // Third attempt (maxAttempts = 3): no more retries.
      expect(store.markFailed("a", { error: "third", retryAt: clock.now + 700 })).to.equal("failed");
      expect(store.claimDue(clock.now + 10_000, 10).map((i) => i.id)).to.not.include("a");
    });

    it("bounded by time, an item is retried past the attempt bound; only a failed attempt counts", function () {
      store.claimDue(clock.now, 10);
      store.markDone("b");
      store.markDone("c");
      for (let attempt = 1; attempt <= 5; attempt++) {
        expect(store.markFailed("a", { error: `refused ${attempt}`, retryAt: clock.now, bound: "time" })).to.equal(
          "pending",
        );
        expect(store.getOutbox("a")!.attempts).to.equal(attempt);
        expect(store.claimDue(clock.now, 10).map((i) => [i.id, i.attempts])).to.deep.equal([["a", attempt]]);
      }
      expect(store.markFailed("a", { error: "past the deadline", retryAt: null, bound: "time" })).to.equal("failed");
      expect(store.getOutbox("a")).to.deep.include({ status: "failed", attempts: 6 });
    });

    it("releases the claims of a dead process spread over a window, attempts untouched", function () {
      for (let i = 0; i < 40; i++) store.enqueue(packet(`r${i}`));
      store.claimDue(clock.now, 100);
      let n = 0;
      const random = () => ((n++ * 7919) % 1000) / 1000; // deterministic, spread over [0, 1)
      expect(store.releaseClaims(clock.now, 2_000, random)).to.equal(43);
      const due = store.prepare("SELECT next_attempt_at AS at, attempts, status FROM outbox").all() as Array<{
        at: bigint;
        attempts: bigint;
        status: string;
      }>;
      expect(new Set(due.map((d) => d.status))).to.deep.equal(new Set(["pending"]));
      expect(due.every((d) => d.attempts === 0n)).to.equal(true);
      const offsets = due.map((d) => Number(d.at) - clock.now);
      expect(Math.min(...offsets)).to.be.at.least(0);
      expect(Math.max(...offsets)).to.be.below(2_000);
      // Not fired at once: at most a tenth of them due in any tenth of the window (here: 5 of 43 at most).
      for (let slot = 0; slot < 10; slot++)
        expect(offsets.filter((o) => o >= slot * 200 && o < (slot + 1) * 200).length).to.be.at.most(5);
    });

    it("fails an item for good on a permanent fault, and finishes one with markDone", function () {
      store.claimDue(clock.now, 2);
      expect(store.markFailed("a", { error: "reverted: PipeUnauthorized", retryAt: null })).to.equal("failed");
      store.markDone("b");
      expect(store.getOutbox("b")!.status).to.equal("done");
      expect(store.pendingCount()).to.equal(1);
    });

    it("refuses transitions from the wrong state or for unknown items", async function () {
      await expectCcgpError(() => store.markDone("a"), "STORE_BAD_TRANSITION");
      await expectCcgpError(() => store.markFailed("nope", { error: "x", retryAt: null }), "STORE_UNKNOWN_ITEM");
      expect(store.enqueue(packet("a"))).to.equal(false);
    });
  });

  describe("inbox", function () {
    it("accepts a packet key once and records its outcome once", async function () {
      const key = inboxKey.packet("0xpipe", 7n);
      expect(key).to.equal("packet:0xpipe:7");
      expect(store.acceptInbound(key, { sequence: 7n })).to.equal(true);
      expect(store.acceptInbound(key, { sequence: 7n, replay: true })).to.equal(false);
      store.completeInbound(key, "done", { txHash: "0xabc" });
      expect(store.getInbound(key)).to.deep.include({
        status: "done",
        packet: { sequence: "7" },
        result: { txHash: "0xabc" },
      });
      await expectCcgpError(() => store.completeInbound(key, "failed", {}), "STORE_BAD_TRANSITION");
      await expectCcgpError(() => store.completeInbound(inboxKey.step("0xtx", 1), "failed", {}), "STORE_UNKNOWN_ITEM");
    });

    it("completes a packet and enqueues its ledger write atomically", function () {
      const key = inboxKey.step("0xtx", 2);
      store.acceptInbound(key, {});
      try {
        store.transaction(() => {
          store.completeInbound(key, "done", {});
          store.enqueue({ id: "ledger:0xtx:2", kind: "ledger-write", payload: {} });
          throw new Error("crash between the two");
        });
      } catch {
        // expected: the transaction rolled back
      }
      expect(store.getInbound(key)!.status).to.equal("accepted");
      expect(store.getOutbox("ledger:0xtx:2")).to.equal(null);
    });
  });

  describe("refusals", function () {
    it("records refusals with their reason, pipe, signer and details, and filters them", function () {
      store.recordRefusal({ reason: "AMDP_BAD_SIGNATURE", pipeId: "0xp", signer: "0xs", details: { stage: 2 } });
      clock.advance(10);
      store.recordRefusal({ reason: "PEER_NOT_PINNED", details: { fingerprint: "ab" } });
      expect(store.refusals().map((r) => r.reason)).to.deep.equal(["AMDP_BAD_SIGNATURE", "PEER_NOT_PINNED"]);
      expect(store.refusals({ reason: "AMDP_BAD_SIGNATURE" })[0]).to.deep.include({
        pipeId: "0xp",
        signer: "0xs",
        details: { stage: 2 },
      });
      expect(store.refusals({ since: clock.now }).map((r) => r.reason)).to.deep.equal(["PEER_NOT_PINNED"]);
    });
  });
});
