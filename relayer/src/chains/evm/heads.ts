/**
 * New heads pushed by the node over WebSocket (`eth_subscribe("newHeads")`), so the confirmed-log followers wait for
 * the next block instead of polling for it, and take from the pushed headers what they would otherwise read: the
 * head's height, the recent blocks' hashes (linked by `parentHash`), and whether a block may hold a followed log (its
 * logs bloom). While the socket is down the followers poll as without it; it is opened again after a backoff.
 */
import { hexToBytes, keccak256, toEventSelector, type AbiEvent, type Address, type Hex } from "viem";
import { getWebSocketRpcClient } from "viem/utils";
import type { HeadFeed, PushedChain } from "../../../../lib/chain/follow";
import type { Logger } from "../../../../lib/infra/log";

interface Head {
  hash: Hex;
  parent: Hex;
  bloom: Uint8Array;
}

interface PushedHeader {
  number: Hex;
  hash: Hex;
  parentHash: Hex;
  logsBloom: Hex;
}

type SocketClient = Awaited<ReturnType<typeof getWebSocketRpcClient>>;

/** Pushed heads kept: the followers look back `confirmations` blocks and a little more. */
const KEPT_HEADS = 256;
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/** The three bloom bits of one address or topic (Ethereum's 2048-bit logs bloom). */
function bloomBits(item: Hex): Array<[number, number]> {
  const h = hexToBytes(keccak256(item));
  const bits: Array<[number, number]> = [];
  for (let i = 0; i < 6; i += 2) {
    const bit = ((h[i]! << 8) | h[i + 1]!) & 2047;
    bits.push([255 - (bit >> 3), 1 << (bit & 7)]);
  }
  return bits;
}

function inBloom(bloom: Uint8Array, bits: Array<[number, number]>): boolean {
  return bits.every(([byte, mask]) => (bloom[byte]! & mask) !== 0);
}

/**
 * A bloom test for a follower's filter: false only when a block's bloom holds none of the addresses, or none of the
 * events' topics. `undefined` fields match anything (an anonymous event has no topic to look for).
 */
function bloomFilter(address: Address | Address[] | undefined, events: readonly AbiEvent[] | undefined) {
  const addresses = address === undefined ? undefined : (Array.isArray(address) ? address : [address]).map(bloomBits);
  const topics =
    events === undefined || events.some((e) => e.anonymous === true)
      ? undefined
      : events.map((e) => bloomBits(toEventSelector(e)));
  return (bloom: Uint8Array): boolean =>
    (addresses === undefined || addresses.some((bits) => inBloom(bloom, bits))) &&
    (topics === undefined || topics.some((bits) => inBloom(bloom, bits)));
}

/** One node's pushed heads, shared by every follower of that node in the process. */
export class NewHeads {
  private readonly _heads = new Map<bigint, Head>();
  private _top: bigint | undefined;
  private _count = 0;
  /** The caller's read of the head while none was pushed (see `seen`). */
  private _seen: { height: bigint } | undefined;
  /** Counts the socket's live spells. */
  private _spell = 0;
  private _live = false;
  private _users = 0;
  private _client: SocketClient | undefined;
  private _retryTimer: NodeJS.Timeout | undefined;
  private _retryMs = RETRY_MIN_MS;
  private readonly _waiters = new Set<() => void>();

  constructor(
    readonly url: string,
    /** Counts the subscription as a JSON-RPC call (`ccgp_rpc_calls_total`). */
    private readonly _countCall: (method: string) => void,
    private readonly _log: Logger,
  ) {}

  /**
   * The latest pushed head's height while the socket is live (the node pushes each block as it is added), else
   * `undefined`: the caller asks the node. Saves the `eth_blockNumber` of every "where is the chain now".
   */
  top(): bigint | undefined {
    return this._live ? (this._top ?? this._seen?.height) : undefined;
  }

  /**
   * Where the chain is now, read by the caller while no head was pushed yet (a chain idle since the subscription):
   * kept as the top until a head is pushed, if the socket was live through the read (a block mined since was pushed).
   * `since`: `liveSince()` before the read.
   */
  seen(height: bigint, since: number | undefined): void {
    if (since !== undefined && since === this.liveSince() && this._top === undefined) this._seen = { height };
  }

  /** An id of the socket's current live spell (`undefined` while down): a read between two equal ids saw no gap. */
  liveSince(): number | undefined {
    return this._live ? this._spell : undefined;
  }

  /** A follower's view, with its filter's bloom test; `release` when the follower stops. */
  feed(address: Address | Address[] | undefined, events: readonly AbiEvent[] | undefined): HeadFeed {
    const mayHaveLogs = bloomFilter(address, events);
    return {
      live: () => this._live,
      count: () => this._count,
      wait: (since, ms, signal) => this._wait(since, ms, signal),
      chain: (from) => this._chain(from, mayHaveLogs),
      open: () => this._acquire(),
    };
  }

  private _acquire(): () => void {
    this._users += 1;
    if (this._users === 1) void this._connect();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this._users -= 1;
      if (this._users === 0) this._close();
    };
  }

  private async _connect(): Promise<void> {
    this._retryTimer = undefined;
    let client: SocketClient;
    try {
      // No viem reconnect or keep-alive: a lost socket is handled here (polling meanwhile, then a new socket).
      client = await getWebSocketRpcClient(this.url, { keepAlive: false, reconnect: false });
    } catch (error) {
      this._down(error);
      return;
    }
    if (this._users === 0) return client.close();
    this._client = client;
    this._countCall("eth_subscribe");
    client.request({
      body: { method: "eth_subscribe", params: ["newHeads"] },
      onResponse: (message: { method?: string; error?: unknown; params?: { result?: PushedHeader } }) => {
        if (message.error !== undefined) return this._down(message.error);
        if (message.method !== "eth_subscription") {
          this._spell += 1;
          this._live = true;
          this._retryMs = RETRY_MIN_MS;
          this._log.debug({ url: this.url }, "new heads pushed over WebSocket");
          return;
        }
        if (message.params?.result !== undefined) this._push(message.params.result);
      },
      onError: (error) => this._down(error),
    });
  }

  private _push(header: PushedHeader): void {
    const height = BigInt(header.number);
    // A pushed height at or below the top replaces the blocks from there up (a reorg, or a reverted snapshot).
    if (this._top !== undefined && height <= this._top)
      for (const h of [...this._heads.keys()]) if (h >= height) this._heads.delete(h);
    this._heads.set(height, { hash: header.hash, parent: header.parentHash, bloom: hexToBytes(header.logsBloom) });
    this._top = height;
    if (this._heads.size > KEPT_HEADS)
      for (const h of [...this._heads.keys()]) if (h <= height - BigInt(KEPT_HEADS)) this._heads.delete(h);
    this._count += 1;
    this._wake();
  }

  /** The socket failed or closed: the followers poll until a new one pushes heads again. */
  private _down(error: unknown): void {
    // Already down, its retry scheduled (closing the socket may report its pending request's failure too).
    if (this._client === undefined && this._retryTimer !== undefined) return;
    if (this._live) this._log.warn({ url: this.url, err: error }, "WebSocket heads lost; polling until it is back");
    else this._log.debug({ url: this.url, err: error }, "no WebSocket heads; polling");
    this._close();
    if (this._users > 0) {
      this._retryTimer = setTimeout(() => void this._connect(), this._retryMs);
      this._retryMs = Math.min(this._retryMs * 2, RETRY_MAX_MS);
    }
  }

  private _close(): void {
    clearTimeout(this._retryTimer);
    this._retryTimer = undefined;
    this._live = false;
    this._heads.clear();
    this._top = undefined;
    this._seen = undefined;
    const client = this._client;
    this._client = undefined;
    client?.close();
    this._wake();
  }

  private _wake(): void {
    for (const wake of [...this._waiters]) wake();
  }

  private _wait(since: number, ms: number, signal: AbortSignal): Promise<void> {
    if (this._count !== since || !this._live || signal.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this._waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      this._waiters.add(done);
    });
  }

  private _chain(from: bigint, mayHaveLogs: (bloom: Uint8Array) => boolean): PushedChain | undefined {
    const top = this._top;
    if (!this._live || top === undefined || from > top) return undefined;
    // The heads from `from` to the top as they are now (the follower compares a later view with this one).
    // Collected top first (pushed, not unshifted: a kept read may look back hundreds of heads).
    const heads: Head[] = [];
    for (let h = top; h >= from; h -= 1n) {
      const head = this._heads.get(h);
      if (head === undefined || (heads.length > 0 && heads[heads.length - 1]!.parent !== head.hash)) return undefined;
      heads.push(head);
    }
    const at = (height: bigint): Head | undefined =>
      height < from || height > top ? undefined : heads[Number(top - height)];
    return {
      head: top,
      hash: (height) => at(height)?.hash ?? null,
      mayHaveLogs: (height) => {
        const head = at(height);
        return head === undefined || mayHaveLogs(head.bloom);
      },
    };
  }
}

/** Kept answers, at most (the oldest are dropped first). */
const KEPT_READS = 1_024;

interface KeptRead {
  value: Promise<Hex>;
  /** The block it was read at, and that block's hash (a reorg since replaces it). */
  at: bigint;
  hash: Hex;
  /**
   * By feed, the last head up to which the blocks since `at` were found without a watched log, and its hash: the next
   * check starts there (the hash chain from it to the new head proves the blocks before it are the ones checked).
   */
  checked?: Map<HeadFeed, { at: bigint; hash: Hex }>;
}

/**
 * Read answers kept while the pushed heads prove them current: a call is read at the pushed head (pinned to that
 * block), and answered again from the kept value as long as every block since is pushed, linked to it, and holds no
 * log of the watched contracts (its logs bloom). A block that may hold one (a bloom match, false positives included),
 * a gap, a reorg or a socket down: read again. So a revocation, which the registries log, ends the kept answer at the
 * block that made it, as a read would.
 */
export class KeptReads {
  private readonly _kept = new Map<string, KeptRead>();

  /**
   * `top`: the pushed head (`undefined` while none is pushed); `readAt`: the read itself, at a block (or the latest
   * for `undefined`).
   */
  read(
    request: { to: Address; data: Hex },
    feeds: readonly HeadFeed[],
    top: bigint | undefined,
    readAt: (height: bigint | undefined) => Promise<Hex>,
  ): Promise<Hex> {
    const key = `${request.to.toLowerCase()}:${request.data}`;
    const kept = this._kept.get(key);
    if (kept !== undefined && feeds.every((feed) => unchangedSince(feed, kept))) return kept.value;
    this._kept.delete(key);
    const hash = top === undefined || feeds.length === 0 ? null : (feeds[0]!.chain(top)?.hash(top) ?? null);
    if (top === undefined || hash === null) return readAt(undefined);
    const value = readAt(top);
    this._kept.set(key, { value, at: top, hash });
    // A failed read (a revert included) is never kept.
    value.catch(() => {
      if (this._kept.get(key)?.value === value) this._kept.delete(key);
    });
    if (this._kept.size > KEPT_READS) this._kept.delete(this._kept.keys().next().value!);
    return value;
  }
}

/** Every block since `kept.at` is pushed, on the same fork, and none may hold a watched log. */
function unchangedSince(feed: HeadFeed, kept: KeptRead): boolean {
  const from = kept.checked?.get(feed) ?? kept;
  const chain = feed.chain(from.at);
  if (chain === undefined || chain.hash(from.at) !== from.hash) return false;
  for (let h = from.at + 1n; h <= chain.head; h += 1n) if (chain.mayHaveLogs(h)) return false;
  const hash = chain.hash(chain.head);
  if (hash !== null) (kept.checked ??= new Map()).set(feed, { at: chain.head, hash });
  return true;
}

/**
 * The WebSocket URL of a node: `wsUrl` when set (`false`: none, poll), else the HTTP URL's own host and port over
 * `ws:` for a node on this machine (anvil and Hardhat serve both on one port); none for a remote node, whose
 * WebSocket endpoint is usually elsewhere and must be configured.
 */
export function wsUrlOf(rpcUrl: string, wsUrl: string | false | undefined): string | undefined {
  if (wsUrl === false) return undefined;
  if (wsUrl !== undefined) return wsUrl;
  const url = new URL(rpcUrl);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) return undefined;
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}
