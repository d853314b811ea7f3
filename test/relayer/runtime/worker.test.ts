import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../../lib/infra/log";
import { RelayerStore, type OutboxItem } from "../../../relayer/src/store";
import { CcgpError } from "../../../lib/infra/errors";
import { backoffMs, Defer, GiveUp, Worker } from "../../../relayer/src/tx/worker";
import { waitFor } from "../../helpers/hardhat-node";

describe("relayer/tx/worker", function () {
  let dir: string;
  let store: RelayerStore;
  let controller: AbortController;
  let running: Promise<void> | undefined;
  const open = () => RelayerStore.open({ path: join(dir, "w.sqlite"), maxAttempts: 3, leaseMs: 60_000 });
  const worker = (over: Partial<ConstructorParameters<typeof Worker>[1]> = {}) =>
    new Worker(store, {
      concurrency: 4,
      pollIntervalMs: 20,
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
      log: silentLogger(),
      ...over,
    });
  const start = (w: Worker) => (running = w.run(controller.signal));

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), "ccgp-worker-"));
    store = open();
    controller = new AbortController();
  });
  afterEach(async function () {
    controller.abort();
    await running;
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs an item, then its follow-up items, each once", async function () {
    const ran: string[] = [];
    const w = worker()
      .handle("a", async (item) => {
        ran.push(item.id);
        return { next: [{ id: "b1", kind: "ledger-write", payload: { type: "b" } }] };
      })
      .handle("b", async (item) => void ran.push(item.id));
    store.enqueue({ id: "a1", kind: "packet", payload: { type: "a" } });
    start(w);
    await waitFor(() => store.getOutbox("b1")?.status === "done", "the follow-up item");
    expect(ran).to.deep.equal(["a1", "b1"]);
    expect(store.getOutbox("a1")!.status).to.equal("done");
  });

  it("retries a failing item with backoff up to the bound, then hands it over once", async function () {
    const given: Array<[string, string]> = [];
    let calls = 0;
    const w = worker({ onGiveUp: (item, error) => void given.push([item.id, (error as Error).message]) }).handle(
      "x",
      async () => {
        calls += 1;
        throw new Error(`fault ${calls}`);
      },
    );
    store.enqueue({ id: "x1", kind: "packet", payload: { type: "x" } });
    start(w);
    await waitFor(() => store.getOutbox("x1")?.status === "failed", "the final failure");
    await waitFor(() => given.length === 1, "the hand-off");
    expect(calls).to.equal(3);
    expect(given).to.deep.equal([["x1", "fault 3"]]);
    expect(store.getOutbox("x1")!.lastError).to.equal("fault 3");
  });

  it("gives up at once on GiveUp, and waits without spending an attempt on Defer", async function () {
    let deferrals = 0;
    const given: string[] = [];
    const w = worker({ onGiveUp: (item) => void given.push(item.id) })
      .handle("final", async () => {
        throw new GiveUp("REFUSED", "refused for good");
      })
      .handle("later", async () => {
        deferrals += 1;
        if (deferrals < 6) throw new Defer("not yet", 1);
      });
    store.enqueue({ id: "f", kind: "packet", payload: { type: "final" } });
    store.enqueue({ id: "l", kind: "packet", payload: { type: "later" } });
    start(w);
    await waitFor(
      () => store.getOutbox("l")?.status === "done" && store.getOutbox("f")?.status === "failed",
      "both items",
    );
    expect(store.getOutbox("f")!.attempts).to.equal(1);
    expect(given).to.deep.equal(["f"]);
    // Five deferrals and a success with a bound of three attempts: deferrals are not attempts.
    expect(deferrals).to.equal(6);
    expect(store.getOutbox("l")!.attempts).to.equal(0);
  });

  it("retries transient faults past the attempt bound until the item's time bound, then hands it over once", async function () {
    const given: Array<[string, number]> = [];
    const calls: number[] = [];
    const bound = Date.now() + 400;
    const w = worker({ retryUntil: () => bound, onGiveUp: (item) => void given.push([item.id, item.attempts]) }).handle(
      "x",
      async () => {
        calls.push(Date.now());
        throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8443"), { code: "ECONNREFUSED" });
      },
    );
    store.enqueue({ id: "x1", kind: "packet", payload: { type: "x" } });
    start(w);
    await waitFor(() => given.length === 1, "the hand-off at the bound");
    // A bound of 3 attempts (the store's) does not end it: the time bound does, with one last try at it.
    expect(calls.length).to.be.greaterThan(3);
    expect(calls.at(-1)!).to.be.at.least(bound);
    expect(given).to.deep.equal([["x1", calls.length]]);
    expect(store.getOutbox("x1")).to.deep.include({ status: "failed", attempts: calls.length });
  });

  it("waits at least the delay a busy peer asks for (retryAfterMs), with jitter otherwise", async function () {
    const calls: number[] = [];
    const w = worker().handle("busy", async () => {
      calls.push(Date.now());
      if (calls.length === 1) throw new CcgpError("PEER_BUSY", "target answered 429 QUEUE_FULL", { retryAfterMs: 300 });
    });
    store.enqueue({ id: "b1", kind: "packet", payload: { type: "busy" } });
    start(w);
    await waitFor(() => store.getOutbox("b1")?.status === "done", "the second attempt");
    expect(calls[1]! - calls[0]!).to.be.at.least(300);
    expect(store.getOutbox("b1")!.attempts).to.equal(1);
  });

  it("a claim lost in a crash costs no attempt, and released claims become due spread over a window", async function () {
    for (let i = 0; i < 30; i++) store.enqueue({ id: `k${i}`, kind: "packet", payload: { type: "k" } });
    expect(store.claimDue(Date.now(), 100)).to.have.length(30);
    store.close(); // the process dies holding 30 claims
    store = open();
    const ran = new Map<string, number>();
    let n = 0;
    const w = worker({ releaseSpreadMs: 600, random: () => ((n++ * 37) % 30) / 30 }).handle("k", async (item) => {
      ran.set(item.id, Date.now());
      expect(item.attempts).to.equal(0);
    });
    const released = Date.now();
    expect(w.releaseClaims()).to.equal(30);
    start(w);
    await waitFor(() => ran.size === 30, "every released item");
    const offsets = [...ran.values()].map((t) => t - released);
    // Spread: not all at once (the first tenth of the window holds a few, the last ones wait for their time).
    expect(offsets.filter((o) => o < 60).length).to.be.at.most(6);
    expect(Math.max(...offsets)).to.be.at.least(500);
    expect([...ran.keys()].every((id) => store.getOutbox(id)!.attempts === 0)).to.equal(true);
  });

  it("refuses an item of an unknown type finally", async function () {
    store.enqueue({ id: "u", kind: "packet", payload: { type: "nobody" } });
    start(worker());
    await waitFor(() => store.getOutbox("u")?.status === "failed", "the refusal");
    expect(store.getOutbox("u")!.lastError).to.contain('no handler for work item type "nobody"');
  });

  it("after a crash, items claimed by the dead process are due at once", async function () {
    store.enqueue({ id: "c", kind: "packet", payload: { type: "c" } });
    expect(store.claimDue(Date.now(), 10).map((i: OutboxItem) => i.id)).to.deep.equal(["c"]);
    store.close();
    store = open();
    expect(store.claimDue(Date.now(), 10)).to.deep.equal([]);
    const ran: string[] = [];
    const w = worker().handle("c", async (item) => void ran.push(item.id));
    expect(w.releaseClaims()).to.equal(1);
    start(w);
    await waitFor(() => ran.length === 1, "the released item");
  });

  it("runs at most `concurrency` items at once", async function () {
    let now = 0;
    let peak = 0;
    const w = worker({ concurrency: 2 }).handle("slow", async () => {
      now += 1;
      peak = Math.max(peak, now);
      await new Promise((r) => setTimeout(r, 20));
      now -= 1;
    });
    for (let i = 0; i < 6; i++) store.enqueue({ id: `s${i}`, kind: "packet", payload: { type: "slow" } });
    start(w);
    await waitFor(() => store.pendingCount() === 0, "every item");
    expect(peak).to.equal(2);
  });

  it("backs off exponentially within [ceiling/2, ceiling], capped", function () {
    const policy = { baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffMs(1, policy, () => 0)).to.equal(50);
    expect(backoffMs(1, policy, () => 1)).to.equal(100);
    expect(backoffMs(3, policy, () => 1)).to.equal(400);
    expect(backoffMs(10, policy, () => 1)).to.equal(1_000);
    expect(backoffMs(10, policy, () => 0)).to.equal(500);
  });
});
