import { expect } from "chai";
import { Backlog, BoundedQueue, FlowControl, KeyedRateLimiter, TokenBucket } from "../../../relayer/src/flow";
import { retryAfterHeader } from "../../../lib/infra/http";
import { expectCcgpError, ManualClock } from "../helpers/errors";

describe("relayer/flow", function () {
  describe("TokenBucket", function () {
    it("admits a burst, then refills at the rate", function () {
      const clock = new ManualClock();
      const bucket = new TokenBucket(2, 3, clock.read);
      expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).to.deep.equal([
        true,
        true,
        true,
        false,
      ]);
      expect(bucket.retryAfterMs()).to.equal(500);
      clock.advance(499);
      expect(bucket.tryTake()).to.equal(false);
      clock.advance(1);
      expect(bucket.tryTake()).to.equal(true);
      expect(bucket.tryTake()).to.equal(false);
    });

    it("never holds more than the burst, whatever the idle time", function () {
      const clock = new ManualClock();
      const bucket = new TokenBucket(10, 2, clock.read);
      clock.advance(3_600_000);
      expect(bucket.available()).to.equal(2);
      expect(bucket.tryTake(3)).to.equal(false);
      expect(bucket.retryAfterMs(3)).to.equal(Infinity);
    });

    it("adds no tokens when the clock steps back", function () {
      const clock = new ManualClock();
      const bucket = new TokenBucket(1, 1, clock.read);
      expect(bucket.tryTake()).to.equal(true);
      clock.advance(-10_000);
      expect(bucket.tryTake()).to.equal(false);
      clock.advance(10_000 + 1_000);
      expect(bucket.tryTake()).to.equal(true);
    });

    it("refuses a zero rate or a burst below one", async function () {
      await expectCcgpError(() => new TokenBucket(0, 1), "FLOW_BAD_RATE");
      await expectCcgpError(() => new TokenBucket(1, 0), "FLOW_BAD_RATE");
    });
  });

  describe("KeyedRateLimiter", function () {
    it("keeps one bucket per key and prunes only refilled ones", function () {
      const clock = new ManualClock();
      const limiter = new KeyedRateLimiter({ ratePerSecond: 1, burst: 1 }, clock.read, 2);
      expect(limiter.bucket("a").tryTake()).to.equal(true);
      expect(limiter.bucket("b").tryTake()).to.equal(true);
      expect(limiter.bucket("a").tryTake()).to.equal(false);
      limiter.bucket("c"); // at the bound, nothing is full yet: nothing may be dropped
      expect(limiter.size).to.equal(3);
      expect(limiter.bucket("a").tryTake()).to.equal(false);
      clock.advance(1_000);
      limiter.bucket("d"); // a, b, c are full again: dropped, since fresh buckets equal them
      expect(limiter.size).to.equal(1);
    });
  });

  describe("FlowControl", function () {
    const limits = { perPipe: { ratePerSecond: 1, burst: 2 }, perApp: { ratePerSecond: 1, burst: 3 } };

    it("refuses a pipe over its rate with RATE_LIMITED naming the pipe", async function () {
      const clock = new ManualClock();
      const flow = new FlowControl({ ...limits, clock: clock.read });
      flow.admit({ pipeId: "p1", appId: "a1" });
      flow.admit({ pipeId: "p1", appId: "a1" });
      const error = await expectCcgpError(() => flow.admit({ pipeId: "p1", appId: "a1" }), "RATE_LIMITED");
      expect(error.details).to.deep.equal({ scope: "pipe", key: "p1", retryAfterMs: 1000 });
      clock.advance(1_000);
      flow.admit({ pipeId: "p1", appId: "a1" });
    });

    it("refuses an app over its rate across pipes, without spending the pipe's token", async function () {
      const flow = new FlowControl({ ...limits, clock: new ManualClock().read });
      flow.admit({ pipeId: "p1", appId: "a1" });
      flow.admit({ pipeId: "p2", appId: "a1" });
      flow.admit({ pipeId: "p3", appId: "a1" });
      const error = await expectCcgpError(() => flow.admit({ pipeId: "p4", appId: "a1" }), "RATE_LIMITED");
      expect(error.details.scope).to.equal("app");
      expect(error.details.key).to.equal("a1");
      // p4 was not charged for the refused packet: it still has its full burst for another app.
      flow.admit({ pipeId: "p4", appId: "a2" });
      flow.admit({ pipeId: "p4", appId: "a2" });
    });
  });

  describe("BoundedQueue", function () {
    it("refuses with QUEUE_FULL instead of growing", async function () {
      const queue = new BoundedQueue<number>(2, "inbound");
      queue.push(1);
      queue.push(2);
      const error = await expectCcgpError(() => queue.push(3), "QUEUE_FULL");
      expect(error.details).to.deep.equal({ queue: "inbound", capacity: 2 });
      expect(queue.size).to.equal(2);
      expect(queue.shift()).to.equal(1);
      queue.push(3);
      expect([queue.shift(), queue.shift(), queue.shift()]).to.deep.equal([2, 3, undefined]);
    });

    it("hands an item straight to a waiting consumer", async function () {
      const queue = new BoundedQueue<string>(1);
      const controller = new AbortController();
      const first = queue.take(controller.signal);
      const second = queue.take(controller.signal);
      queue.push("a");
      queue.push("b");
      queue.push("c"); // both waiters served, so "c" fits in the one slot
      expect(await first).to.equal("a");
      expect(await second).to.equal("b");
      expect(queue.size).to.equal(1);
    });

    it("resolves a waiting take with undefined on abort, and forgets the waiter", async function () {
      const queue = new BoundedQueue<string>(1);
      const controller = new AbortController();
      const waiting = queue.take(controller.signal);
      controller.abort();
      expect(await waiting).to.equal(undefined);
      queue.push("kept");
      expect(queue.size).to.equal(1);
    });

    it("refuses a capacity below one", async function () {
      await expectCcgpError(() => new BoundedQueue(0), "FLOW_BAD_CAPACITY");
    });
  });
  describe("Backlog", function () {
    it("admits while the work held is under maxQueue, then refuses with QUEUE_FULL and a retry delay", async function () {
      const clock = new ManualClock();
      let stored = 2;
      const backlog = new Backlog({ maxQueue: 4, count: () => stored, refreshMs: 100, clock: clock.read });
      const first = backlog.admit();
      const second = backlog.admit(); // 2 stored + 2 in hand = 4: full
      const error = await expectCcgpError(() => backlog.admit(), "QUEUE_FULL");
      expect(error.details).to.deep.include({ size: 4, maxQueue: 4, retryAfterMs: 1_000 });
      expect(retryAfterHeader(error.details)).to.deep.equal({ "retry-after": "1" });
      first();
      first(); // released once only
      expect(backlog.size).to.equal(3);
      backlog.added(); // the request's work was stored: counted at once, not at the next refresh
      await expectCcgpError(() => backlog.admit(), "QUEUE_FULL");
      second();
      stored = 0; // the worker finished everything; seen at the next refresh
      expect(backlog.size).to.equal(3);
      clock.advance(100);
      expect(backlog.size).to.equal(0);
      backlog.admit();
    });

    it("refuses a capacity below 1", async function () {
      await expectCcgpError(() => new Backlog({ maxQueue: 0, count: () => 0 }), "FLOW_BAD_CAPACITY");
    });

    it("turns a retry delay into a Retry-After header of whole seconds, at least 1", function () {
      expect(retryAfterHeader({ retryAfterMs: 1 })).to.deep.equal({ "retry-after": "1" });
      expect(retryAfterHeader({ retryAfterMs: 2_001 })).to.deep.equal({ "retry-after": "3" });
      expect(retryAfterHeader({ retryAfterMs: Infinity })).to.deep.equal({});
      expect(retryAfterHeader({})).to.deep.equal({});
    });
  });
});
