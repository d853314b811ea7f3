import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "viem";
import {
  RpcPools,
  chainRegistry,
  type BlockRef,
  type ChainPlugin,
  type PollInfo,
  type SubscribeOptions,
  type SubscriptionEvent,
} from "../../../relayer/src/chains";
import { CcgpError } from "../../../lib/infra/errors";
import { silentLogger } from "../../../lib/infra/log";
import { RelayerStore } from "../../../relayer/src/store";
import { deployEmitter, type Emitter } from "../helpers/emitter";
import { expectCcgpError } from "../helpers/errors";
import { freePort, startHardhatNode, waitFor, type HardhatNode } from "../../helpers/hardhat-node";

/** Records what a subscription delivers; optionally writes it to a store the way the relayer does. */
class Collector {
  readonly events: SubscriptionEvent[] = [];
  readonly aboveSafeHead: bigint[] = [];
  lastPoll?: PollInfo;

  constructor(private readonly _store?: RelayerStore) {}

  readonly onPoll = (info: PollInfo): void => {
    this.lastPoll = info;
  };

  readonly handler = (event: SubscriptionEvent): void => {
    if (event.type === "block" && this.lastPoll !== undefined && event.height > this.lastPoll.safeHead)
      this.aboveSafeHead.push(event.height);
    this.events.push(event);
    if (this._store === undefined) return;
    if (event.type === "reorg") this._store.rewind("sub_a", event.forkHeight);
    else
      this._store.recordBlock(
        "sub_a",
        event.height,
        event.hash,
        event.logs.map((log) => ({ id: `sub_a:${log.blockHash}:${log.logIndex}`, kind: "packet", payload: log.args })),
      );
  };

  /** Event ids delivered, in order, with the hash of the block each came in. */
  delivered(): Array<{ id: bigint; height: bigint; hash: Hex }> {
    return this.events.flatMap((e) =>
      e.type === "block"
        ? e.logs.map((l) => ({ id: (l.args as { id: bigint }).id, height: e.height, hash: e.hash }))
        : [],
    );
  }

  ids(): bigint[] {
    return this.delivered().map((d) => d.id);
  }
}

interface Running {
  stop(): Promise<void>;
  failure(): unknown;
}

function run(plugin: ChainPlugin, collector: Collector, options: Omit<SubscribeOptions, "onPoll">): Running {
  const controller = new AbortController();
  let failure: unknown;
  const done = plugin
    .subscribe({ ...options, onPoll: collector.onPoll }, collector.handler, controller.signal)
    .catch((e) => {
      failure = e;
    });
  return {
    stop: async () => {
      controller.abort();
      await done;
      if (failure !== undefined) throw failure;
    },
    failure: () => failure,
  };
}

// Each case runs with new heads pushed over WebSocket (the default for a node on this machine) and polled only.
for (const mode of ["pushed", "polled"] as const)
  describe(`relayer/chains: confirmed subscription against a hardhat node, heads ${mode}`, function () {
    let node: HardhatNode;
    let emitter: Emitter;
    let plugin: ChainPlugin;
    let dir: string;
    const mine = (n: number): Promise<unknown> => node.rpc("hardhat_mine", [`0x${n.toString(16)}`]);
    const head = async (): Promise<bigint> => BigInt(await node.rpc<string>("eth_blockNumber"));
    const options = (
      fromBlock: bigint,
      confirmations: number,
      known?: readonly BlockRef[],
    ): Omit<SubscribeOptions, "onPoll"> => ({
      fromBlock,
      confirmations,
      known,
      address: emitter.address,
      events: [emitter.emittedEvent],
    });

    before(async function () {
      node = await startHardhatNode();
      emitter = await deployEmitter(node.url);
      plugin = chainRegistry.create(
        {
          kind: "evm",
          rpcUrl: node.url,
          ...(mode === "polled" ? { wsUrl: false } : {}),
          chainId: 31337,
          gateway: emitter.address,
          pollIntervalMs: 20,
          maxBlockRange: 4,
          reorgWindow: 32,
        },
        { name: "sub_a", logger: silentLogger() },
      );
      dir = mkdtempSync(join(tmpdir(), "ccgp-sub-"));
    });
    after(async function () {
      await node?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("delivers each event exactly once, only behind the confirmation depth", async function () {
      const c = new Collector();
      const sub = run(plugin, c, options(emitter.deployBlock, 2));
      const first = await emitter.emit(1n);
      await mine(1); // head = first + 1: one confirmation short
      await waitFor(
        () => c.lastPoll?.head === first.blockNumber + 1n && c.lastPoll.next === first.blockNumber,
        "a poll at head b+1",
      );
      expect(c.ids()).to.deep.equal([]);
      await mine(1);
      await waitFor(() => c.ids().length === 1, "event 1");
      expect(c.delivered()[0]).to.deep.equal({ id: 1n, height: first.blockNumber, hash: first.blockHash });

      for (const id of [10n, 11n, 12n, 13n, 14n]) await emitter.emit(id);
      const many = await emitter.emitMany(100n, 7n);
      await mine(2);
      await waitFor(() => c.ids().length === 13, "13 events");
      await mine(3);
      await waitFor(() => (c.lastPoll?.next ?? 0n) > many.blockNumber + 3n, "the follower past the last block");
      await sub.stop();

      expect(c.ids()).to.deep.equal([1n, 10n, 11n, 12n, 13n, 14n, 100n, 101n, 102n, 103n, 104n, 105n, 106n]);
      expect(c.aboveSafeHead).to.deep.equal([]);
      const heights = c.events.map((e) => (e.type === "block" ? e.height : -1n));
      expect(heights.every((h, i) => i === 0 || h > heights[i - 1])).to.equal(true, "block events strictly ascending");
      expect(c.events.some((e) => e.type === "reorg")).to.equal(false);
      // A fresh subscription starts with its anchor: the block below fromBlock, without logs.
      expect(c.events[0]).to.deep.include({ type: "block", height: emitter.deployBlock - 1n, logs: [] });
    });

    it("resumes from the store's checkpoint without re-delivering or skipping", async function () {
      const store = RelayerStore.open({ path: join(dir, "resume.sqlite") });
      const start = await head();
      const c1 = new Collector(store);
      const sub1 = run(plugin, c1, options(start, 1, store.recentBlocks("sub_a")));
      await emitter.emit(300n);
      const last1 = await emitter.emit(301n);
      await mine(1);
      await waitFor(() => c1.ids().includes(301n), "event 301");
      await sub1.stop();
      const checkpoint = store.checkpoint("sub_a")!;
      expect(checkpoint.height >= last1.blockNumber).to.equal(true);

      // While the relayer is down, more events happen.
      await emitter.emit(302n);
      const last2 = await emitter.emit(303n);
      await mine(1);
      const c2 = new Collector(store);
      const sub2 = run(plugin, c2, options(start, 1, store.recentBlocks("sub_a")));
      await waitFor(() => c2.ids().includes(303n), "event 303");
      await sub2.stop();

      expect(c1.ids()).to.deep.equal([300n, 301n]);
      expect(c2.ids()).to.deep.equal([302n, 303n]);
      const firstAfterRestart = c2.events[0];
      expect(firstAfterRestart.type === "block" && firstAfterRestart.height > checkpoint.height).to.equal(true);
      expect(store.pendingCount()).to.equal(4);
      expect(store.checkpoint("sub_a")!.height >= last2.blockNumber).to.equal(true);
      store.close();
    });

    it("notices a reorg, announces the fork height, and re-delivers from the new chain", async function () {
      const store = RelayerStore.open({ path: join(dir, "reorg.sqlite") });
      const c = new Collector(store);
      const sub = run(plugin, c, options(await head(), 2));
      const snapshot = await node.rpc<string>("evm_snapshot");
      const old = await emitter.emit(500n);
      await mine(2);
      await waitFor(() => c.ids().includes(500n), "event 500 on the old chain");

      await node.rpc("evm_revert", [snapshot]); // drops the block of event 500 and the two after it
      const replacement = await emitter.emit(600n);
      expect(replacement.blockNumber).to.equal(old.blockNumber);
      expect(replacement.blockHash).to.not.equal(old.blockHash);
      await mine(3);
      await waitFor(() => c.ids().includes(600n), "event 600 on the new chain");
      await sub.stop();

      const reorgs = c.events.filter((e) => e.type === "reorg");
      expect(reorgs).to.have.length(1);
      const reorg = reorgs[0] as Extract<SubscriptionEvent, { type: "reorg" }>;
      expect(reorg.forkHeight <= old.blockNumber).to.equal(true);
      expect(reorg.replaced.height >= old.blockNumber).to.equal(true);
      const order = c.events.map((e) =>
        e.type === "reorg" ? "reorg" : e.logs.length > 0 ? `block:${(e.logs[0].args as { id: bigint }).id}` : "empty",
      );
      expect(order.filter((o) => o !== "empty")).to.deep.equal(["block:500", "reorg", "block:600"]);
      expect(c.delivered().find((d) => d.id === 600n)).to.deep.equal({
        id: 600n,
        height: replacement.blockNumber,
        hash: replacement.blockHash,
      });

      // The store followed: 500's item is orphaned (never sent), 600's is pending, the checkpoint is canonical.
      const items = store.db.prepare("SELECT payload, status FROM outbox").all() as Array<{
        payload: string;
        status: string;
      }>;
      expect(items.map((i) => [JSON.parse(i.payload).id, i.status])).to.deep.equal([
        ["500", "orphaned"],
        ["600", "pending"],
      ]);
      const checkpoint = store.checkpoint("sub_a")!;
      const canonical = await node.rpc<{ hash: Hex }>("eth_getBlockByNumber", [
        `0x${checkpoint.height.toString(16)}`,
        false,
      ]);
      expect(checkpoint.hash).to.equal(canonical.hash);
      store.close();
    });

    it("on resume, notices a checkpoint that is no longer on the chain and rewinds to the fork", async function () {
      const h = await head();
      const realHash = (await node.rpc<{ hash: Hex }>("eth_getBlockByNumber", [`0x${(h - 1n).toString(16)}`, false]))
        .hash;
      const known: BlockRef[] = [
        { height: h - 1n, hash: realHash },
        { height: h, hash: `0x${"ee".repeat(32)}` },
      ];
      const c = new Collector();
      const sub = run(plugin, c, options(0n, 0, known));
      await emitter.emit(700n);
      await waitFor(() => c.ids().includes(700n), "event 700");
      await sub.stop();
      expect(c.events[0]).to.deep.include({ type: "reorg", forkHeight: h });
      // Re-delivery starts at the fork; blocks without logs are not delivered unless they end a range.
      const next = c.events[1] as Extract<SubscriptionEvent, { type: "block" }>;
      expect(next.type).to.equal("block");
      expect(next.height >= h).to.equal(true);
    });

    it("stops with SUBSCRIPTION_REORG_TOO_DEEP when no remembered block is still on the chain", async function () {
      const h = await head();
      const c = new Collector();
      const sub = run(plugin, c, options(0n, 0, [{ height: h, hash: `0x${"ee".repeat(32)}` }]));
      await waitFor(() => sub.failure() !== undefined, "the subscription to stop");
      await expectCcgpError(() => sub.stop(), "SUBSCRIPTION_REORG_TOO_DEEP");
      expect(c.events).to.deep.equal([]);
    });

    it("stops when the handler fails, keeping the handler's error as the cause", async function () {
      const controller = new AbortController();
      const boom = new Error("disk full");
      await emitter.emit(800n);
      const from = (await head()) - 1n;
      const error = await expectCcgpError(
        () =>
          plugin.subscribe(
            options(from, 0),
            () => {
              throw boom;
            },
            controller.signal,
          ),
        "SUBSCRIPTION_HANDLER_FAILED",
      );
      expect((error as CcgpError).cause).to.equal(boom);
    });

    if (mode === "pushed")
      it("with pushed heads, reads the logs of a block only when its bloom may hold one", async function () {
        const pools = new RpcPools();
        const pushed = chainRegistry.create(
          { kind: "evm", rpcUrl: node.url, chainId: 31337, gateway: emitter.address, pollIntervalMs: 20 },
          { name: "sub_push", logger: silentLogger(), rpc: pools },
        );
        const calls = (): Map<string, number> => new Map([...pools.calls()].map((c) => [c.method, c.count]));
        const c = new Collector();
        const sub = run(pushed, c, options(await head(), 0));
        await waitFor(() => calls().get("eth_subscribe") === 1 && c.lastPoll !== undefined, "the subscription");
        const first = await emitter.emit(900n);
        await waitFor(() => c.ids().includes(900n), "event 900");

        const before = calls();
        for (let i = 0; i < 30; i++) await node.rpc("evm_mine");
        await waitFor(() => (c.lastPoll?.next ?? 0n) > first.blockNumber + 30n, "the follower past 30 empty blocks");
        const second = await emitter.emit(901n);
        await waitFor(() => c.ids().includes(901n), "event 901");
        const after = calls();
        await sub.stop();
        pools.close();

        const made = (method: string): number => (after.get(method) ?? 0) - (before.get(method) ?? 0);
        // Polled every 20 ms, the same blocks cost several calls each; pushed, the empty ones cost none but the
        // once-a-second check of the chain, and 901's block one eth_getLogs.
        expect(made("eth_getLogs")).to.be.at.most(3);
        const all = [...after.keys()].reduce((n, m) => n + made(m), 0);
        expect(all).to.be.below(15, JSON.stringify(Object.fromEntries([...after.keys()].map((m) => [m, made(m)]))));
        expect(c.delivered().find((d) => d.id === 901n)).to.deep.equal({
          id: 901n,
          height: second.blockNumber,
          hash: second.blockHash,
        });
      });

    if (mode === "pushed")
      it("keeps a read while the pushed heads hold no watched log, past the heads it keeps, and ends it at one", async function () {
        const pools = new RpcPools();
        const pushed = chainRegistry.create(
          { kind: "evm", rpcUrl: node.url, chainId: 31337, gateway: emitter.address, pollIntervalMs: 20 },
          { name: "sub_kept", logger: silentLogger(), rpc: pools },
        );
        const calls = (): number => [...pools.calls()].find((c) => c.method === "eth_call")?.count ?? 0;
        const c = new Collector();
        const sub = run(pushed, c, options(await head(), 0));
        await waitFor(() => c.lastPoll !== undefined, "the subscription");
        const watch = [{ address: [emitter.address], events: [emitter.emittedEvent] }];
        const count = async (): Promise<bigint> =>
          BigInt(await pushed.readKept!({ to: emitter.address, data: emitter.calldata("emittedCount") }, watch));
        await emitter.emit(1000n);
        await waitFor(() => c.ids().includes(1000n), "event 1000");
        const first = await count();
        const read = calls();
        // 300 empty blocks, more than the 256 heads kept: each check starts where the last one ended.
        for (let i = 0; i < 300; i++) {
          await node.rpc("evm_mine");
          if (i % 25 === 24) {
            const at = await head();
            await waitFor(() => (c.lastPoll?.next ?? 0n) > at, "the follower at the head");
            expect(await count()).to.equal(first);
          }
        }
        expect(calls() - read, "eth_call while nothing changed").to.equal(0);
        await emitter.emit(1001n);
        await waitFor(() => c.ids().includes(1001n), "event 1001");
        expect(await count(), "the watched log ended the kept answer").to.equal(first + 1n);
        expect(calls() - read).to.equal(1);
        await sub.stop();
        pools.close();
      });

    it("retries RPC faults with backoff and stops cleanly on abort", async function () {
      const dead = chainRegistry.create(
        {
          kind: "evm",
          rpcUrl: `http://127.0.0.1:${await freePort()}`,
          chainId: 31337,
          gateway: emitter.address,
          pollIntervalMs: 10,
        },
        { name: "sub_dead", logger: silentLogger() },
      );
      const errors: unknown[] = [];
      const controller = new AbortController();
      const done = dead.subscribe(
        { fromBlock: 0n, confirmations: 0, onError: (e) => errors.push(e) },
        () => undefined,
        controller.signal,
      );
      await waitFor(() => errors.length >= 2, "two retried faults");
      controller.abort();
      await done;
    });
  });
