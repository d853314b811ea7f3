import type { Hex } from "viem";
import { CcgpError } from "../infra/errors";
import type { BlockRef, ChainLog, PollInfo, SubscriptionEvent, SubscriptionHandler } from "./types";

/**
 * Follows a chain by block height behind a confirmation depth and survives reorgs. Chain-kind agnostic:
 * a plugin supplies a `LogSource`; this file holds the delivery rules every kind shares.
 *
 * Rules:
 * - Logs are fetched by bounded ranges `[next, min(safeHead, next + maxBlockRange - 1)]`. A range is delivered
 *   only if every log's block hash is the canonical hash of its height and the range end's hash did not
 *   change while the range was read; otherwise the range is read again on the next poll.
 * - Every delivered block (those with logs, and each range end) is remembered by hash, up to `reorgWindow`.
 *   Each poll first re-reads the hash of the highest remembered block; if it changed (or the block is gone),
 *   remembered blocks are checked downwards to the highest one still canonical, a `reorg` is delivered with
 *   `forkHeight` = that height + 1, and delivery restarts there. Because every block that had logs is
 *   remembered, no log is delivered twice from an unchanged block.
 * - A fresh start (nothing remembered, `fromBlock > 0`) first delivers block `fromBlock - 1` with no logs, once
 *   it is confirmed: the anchor below which the subscription never looks.
 */
export interface LogSource {
  head(): Promise<bigint>;
  /** The head and the hash at `height`, read together (one round trip where the chain kind allows it). */
  headAndHash?(height: bigint): Promise<{ head: bigint; hash: Hex | null }>;
  /** `null` if the chain has no block at this height (it was reorged away and not yet replaced). */
  blockHash(height: bigint): Promise<Hex | null>;
  /** Several hashes at once, in the order asked (one round trip where the chain kind allows it). */
  blockHashes?(heights: readonly bigint[]): Promise<Array<Hex | null>>;
  /** Logs in `[from, to]`, in chain order. */
  logs(from: bigint, to: bigint): Promise<ChainLog[]>;
}

/**
 * Heads the node pushes (the EVM: `eth_subscribe("newHeads")` over WebSocket). With a live feed the follower waits
 * for the next head instead of polling, and takes the head, the recent blocks' hashes and whether a block may hold a
 * followed log from the pushed headers: a block that cannot hold one costs no call, one that may costs a `logs` read.
 * Anything the pushed heads do not show whole (a missing height, a broken parent link, a log of another block) is
 * read as without a feed. Every `LIVE_POLL_MS` one read checks that the node's block at the pushed head is the pushed
 * one (the parent links make that the whole pushed chain); if not, the chain is read as a poll does: a node that drops
 * blocks without pushing a new head (a reverted snapshot) is seen then, as an idle chain's poll sees it today.
 */
export interface HeadFeed {
  /** Starts the feed for one follower; the returned function stops it. */
  open(): () => void;
  /** True while heads are pushed; false while the push is down (the follower then polls). */
  live(): boolean;
  /** Heads pushed so far: `wait(since)` returns at once if one came after `since` was read. */
  count(): number;
  /** Resolves on the next pushed head after `since`, when the feed goes down, after `ms`, or when `signal` aborts. */
  wait(since: number, ms: number, signal: AbortSignal): Promise<void>;
  /** The pushed blocks from `from` to the latest head, each the parent of the next; `undefined` if not all known. */
  chain(from: bigint): PushedChain | undefined;
}

export interface PushedChain {
  head: bigint;
  /** The pushed hash at `height` (`null` outside the chain). */
  hash(height: bigint): Hex | null;
  /** False only when the block certainly holds no followed log (the EVM: its logs bloom). */
  mayHaveLogs(height: bigint): boolean;
}

export interface FollowOptions {
  fromBlock: bigint;
  confirmations: number;
  known?: readonly BlockRef[];
  pollIntervalMs: number;
  maxBlockRange: number;
  reorgWindow: number;
  /** Upper bound of the retry delay after RPC errors (default 30 s). */
  maxBackoffMs?: number;
  onPoll?: (info: PollInfo) => void;
  onError?: (error: unknown) => void;
  /** Pushed heads, where the node offers them: see `HeadFeed`. */
  heads?: HeadFeed;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * After a block was delivered, the chain is polled 8 times as often (at least every `ACTIVE_POLL_MS`) for
 * `ACTIVE_WINDOW_MS`: blocks come in bursts (one cross-chain transaction is five ledger blocks a few ms apart), and a
 * block seen a whole `pollIntervalMs` late delays the next step by as much. A quiet chain costs one poll per
 * `pollIntervalMs`; a busy one about 8 more per block.
 */
const ACTIVE_POLL_MS = 3;
const ACTIVE_WINDOW_MS = 150;

/** With heads pushed, the pushed head is checked against the node this often (or every `pollIntervalMs` if longer). */
export const LIVE_POLL_MS = 1_000;

/** Errors that must stop the subscription rather than be retried. */
function isFatal(error: unknown): boolean {
  return (
    error instanceof CcgpError &&
    (error.code === "SUBSCRIPTION_HANDLER_FAILED" || error.code === "SUBSCRIPTION_REORG_TOO_DEEP")
  );
}

export class ConfirmedLogFollower {
  /** Delivered blocks, ascending by height. */
  private readonly _tracked: BlockRef[];
  private _next: bigint;

  constructor(
    private readonly _source: LogSource,
    private readonly _options: FollowOptions,
  ) {
    this._tracked = [...(_options.known ?? [])].sort((a, b) => (a.height < b.height ? -1 : 1));
    const tip = this._tracked.at(-1);
    this._next = tip === undefined ? _options.fromBlock : tip.height + 1n;
  }

  /** Polls (or waits for pushed heads) until `signal` aborts. */
  async run(handler: SubscriptionHandler, signal: AbortSignal): Promise<void> {
    const feed = this._options.heads;
    const release = feed?.open();
    try {
      await this._run(handler, signal, feed);
    } finally {
      release?.();
    }
  }

  private async _run(handler: SubscriptionHandler, signal: AbortSignal, feed: HeadFeed | undefined): Promise<void> {
    let backoff = 0;
    let progressedAt = -Infinity;
    let polledAt = -Infinity;
    const livePollMs = Math.max(this._options.pollIntervalMs, LIVE_POLL_MS);
    while (!signal.aborted) {
      try {
        const pushed = feed?.live() === true;
        const seen = feed?.count() ?? 0;
        // Once per `livePollMs` one read checks the pushed chain: the node's hash at the pushed head is the pushed one.
        if (pushed && Date.now() - polledAt >= livePollMs && (await this._pushedIsCanonical(feed!)))
          polledAt = Date.now();
        let progressed =
          pushed && Date.now() - polledAt < livePollMs ? await this._pushedStep(handler, signal, feed!) : undefined;
        if (progressed === undefined) {
          progressed = await this._step(handler, signal);
          polledAt = Date.now();
        }
        backoff = 0;
        if (progressed) progressedAt = Date.now();
        else if (pushed) await feed!.wait(seen, polledAt + livePollMs - Date.now(), signal);
        else {
          const active = Date.now() - progressedAt < ACTIVE_WINDOW_MS;
          const interval = this._options.pollIntervalMs;
          await sleep(active ? Math.min(interval, Math.max(ACTIVE_POLL_MS, interval / 8)) : interval, signal);
        }
      } catch (error) {
        if (isFatal(error)) throw error;
        this._options.onError?.(error);
        backoff = Math.min(Math.max(this._options.pollIntervalMs, backoff * 2), this._options.maxBackoffMs ?? 30_000);
        await sleep(backoff, signal);
      }
    }
  }

  /** The pushed chain still runs from the last delivered block to the node's current block at the pushed head. */
  private async _pushedIsCanonical(feed: HeadFeed): Promise<boolean> {
    const tip = this._tracked.at(-1);
    const pushed = tip === undefined ? undefined : feed.chain(tip.height);
    if (pushed === undefined || pushed.hash(tip!.height) !== tip!.hash) return false;
    return (await this._source.blockHash(pushed.head)) === pushed.hash(pushed.head);
  }

  /**
   * One step from pushed heads: the same deliveries as `_step`, with the head, the hashes and the blocks that may
   * hold logs taken from the pushed chain, which must run unbroken from the last delivered block to the head.
   * `undefined`: the pushed heads do not show it whole, so the caller polls (`_step`) instead.
   */
  private async _pushedStep(
    handler: SubscriptionHandler,
    signal: AbortSignal,
    feed: HeadFeed,
  ): Promise<boolean | undefined> {
    const tip = this._tracked.at(-1);
    if (tip === undefined) return undefined;
    const pushed = feed.chain(tip.height);
    // The last delivered block is no longer the pushed one at its height: a reorg, which `_step` handles.
    if (pushed === undefined || pushed.hash(tip.height) !== tip.hash) return undefined;
    const safeHead = pushed.head - BigInt(this._options.confirmations);
    this._options.onPoll?.({ head: pushed.head, safeHead, next: this._next });
    if (this._next > safeHead || signal.aborted) return false;

    const from = this._next;
    const rangeEnd = from + BigInt(this._options.maxBlockRange) - 1n;
    const to = safeHead < rangeEnd ? safeHead : rangeEnd;
    const candidates: bigint[] = [];
    for (let h = from; h <= to; h += 1n) if (pushed.mayHaveLogs(h)) candidates.push(h);
    const logs = candidates.length === 0 ? [] : await this._source.logs(candidates[0]!, candidates.at(-1)!);
    const byHeight = new Map<bigint, ChainLog[]>();
    for (const log of logs) {
      // A log of another block than the pushed one: the chain moved under the read.
      if (log.blockHash !== pushed.hash(log.blockNumber)) return undefined;
      byHeight.set(log.blockNumber, [...(byHeight.get(log.blockNumber) ?? []), log]);
    }
    // As `_readRange` re-reads the range end after the logs: the pushed chain must not have changed meanwhile.
    const after = feed.chain(tip.height);
    if (after === undefined || after.hash(to) !== pushed.hash(to)) return undefined;
    const blocks = [...byHeight].sort(([a], [b]) => (a < b ? -1 : 1));
    if (blocks.at(-1)?.[0] !== to) blocks.push([to, []]);
    for (const [height, blockLogs] of blocks) {
      const hash = pushed.hash(height)!;
      await this._deliver(handler, { type: "block", height, hash, logs: blockLogs });
      this._remember({ height, hash });
    }
    this._next = to + 1n;
    return true;
  }

  /** One poll. Returns true when it delivered something (then the next poll starts at once). */
  private async _step(handler: SubscriptionHandler, signal: AbortSignal): Promise<boolean> {
    const tip = this._tracked.at(-1);
    // The head and the tip's current hash in one round trip: the poll a quiet chain costs.
    const polled =
      tip !== undefined && this._source.headAndHash !== undefined
        ? await this._source.headAndHash(tip.height)
        : { head: await this._source.head(), hash: undefined };
    const head = polled.head;
    const safeHead = head - BigInt(this._options.confirmations);
    this._options.onPoll?.({ head, safeHead, next: this._next });
    if (await this._checkReorg(handler, polled.hash)) return true;
    if (this._next > safeHead || signal.aborted) return false;
    if (this._tracked.length === 0 && this._next > 0n) return this._anchor(handler);

    const from = this._next;
    const rangeEnd = from + BigInt(this._options.maxBlockRange) - 1n;
    const to = safeHead < rangeEnd ? safeHead : rangeEnd;
    const blocks = await this._readRange(from, to);
    if (blocks === undefined) return false;
    for (const block of blocks) {
      await this._deliver(handler, { type: "block", height: block.height, hash: block.hash, logs: block.logs });
      this._remember({ height: block.height, hash: block.hash });
    }
    this._next = to + 1n;
    return true;
  }

  /**
   * A fresh subscription (nothing remembered) first delivers the block just below `fromBlock`, with no logs:
   * it is the first checkpoint and the reference that lets a reorg of `fromBlock` itself be noticed.
   */
  private async _anchor(handler: SubscriptionHandler): Promise<boolean> {
    const height = this._next - 1n;
    const hash = await this._source.blockHash(height);
    if (hash === null) return false;
    await this._deliver(handler, { type: "block", height, hash, logs: [] });
    this._remember({ height, hash });
    return true;
  }

  /** The blocks of one range to deliver, or `undefined` if the chain moved under us while reading it. */
  private async _readRange(from: bigint, to: bigint): Promise<Array<BlockRef & { logs: ChainLog[] }> | undefined> {
    const endHash = await this._source.blockHash(to);
    if (endHash === null) return undefined;
    const logs = await this._source.logs(from, to);
    const byHeight = new Map<bigint, ChainLog[]>();
    for (const log of logs) byHeight.set(log.blockNumber, [...(byHeight.get(log.blockNumber) ?? []), log]);
    const blocks: Array<BlockRef & { logs: ChainLog[] }> = [];
    // Every height with logs, then the range end again: read after the logs, in one round trip where possible.
    const heights = [...byHeight.keys(), to];
    const hashes =
      this._source.blockHashes !== undefined
        ? await this._source.blockHashes(heights)
        : await this._hashesOneByOne(heights);
    for (const [i, [height, blockLogs]] of [...byHeight].entries()) {
      const hash = hashes[i];
      if (blockLogs.some((l) => l.blockHash !== hash)) return undefined;
      blocks.push({ height, hash: hash!, logs: blockLogs });
    }
    if (hashes.at(-1) !== endHash) return undefined;
    blocks.sort((a, b) => (a.height < b.height ? -1 : 1));
    if (blocks.at(-1)?.height !== to) blocks.push({ height: to, hash: endHash, logs: [] });
    return blocks;
  }

  private async _hashesOneByOne(heights: readonly bigint[]): Promise<Array<Hex | null>> {
    const out: Array<Hex | null> = [];
    for (const height of heights) out.push(await this._source.blockHash(height));
    return out;
  }

  /**
   * Detects a changed or vanished delivered block (`polled`: its hash read this poll); delivers `reorg` and rewinds.
   */
  private async _checkReorg(handler: SubscriptionHandler, polled: Hex | null | undefined): Promise<boolean> {
    const tip = this._tracked.at(-1);
    if (tip === undefined) return false;
    const current = polled !== undefined ? polled : await this._source.blockHash(tip.height);
    if (current === tip.hash) return false;

    let keep = this._tracked.length - 1;
    while (keep >= 0 && (await this._source.blockHash(this._tracked[keep].height)) !== this._tracked[keep].hash)
      keep -= 1;
    if (keep < 0)
      throw new CcgpError(
        "SUBSCRIPTION_REORG_TOO_DEEP",
        `reorg below every remembered block (lowest remembered height ${this._tracked[0].height}); ` +
          "the chain and this relayer's checkpoint disagree: resynchronise from a known-good block",
        { lowestRemembered: this._tracked[0].height.toString(), replacedTip: tip.hash },
      );
    const forkHeight = this._tracked[keep].height + 1n;
    this._tracked.splice(keep + 1);
    this._next = forkHeight;
    await this._deliver(handler, { type: "reorg", forkHeight, replaced: tip, current });
    return true;
  }

  private _remember(block: BlockRef): void {
    this._tracked.push(block);
    if (this._tracked.length > this._options.reorgWindow)
      this._tracked.splice(0, this._tracked.length - this._options.reorgWindow);
  }

  private async _deliver(handler: SubscriptionHandler, event: SubscriptionEvent): Promise<void> {
    try {
      await handler(event);
    } catch (error) {
      const height = event.type === "block" ? event.height : event.forkHeight;
      throw new CcgpError(
        "SUBSCRIPTION_HANDLER_FAILED",
        `subscription handler failed on ${event.type} at height ${height}`,
        { event: event.type, height: height.toString() },
        { cause: error },
      );
    }
  }
}
