import type { AbiEvent, Address, Hex } from "viem";

/** What a chain plugin reports about its node. */
export interface ChainStatus {
  chainId: number;
  /** Latest block height the node knows. */
  height: bigint;
  /** True while the node says it is still catching up (`eth_syncing`). */
  syncing: boolean;
}

/** A block by height and hash: the unit of checkpoints and reorg detection. */
export interface BlockRef {
  height: bigint;
  hash: Hex;
}

/** One event log, tagged with the block hash it was seen in. */
export interface ChainLog {
  blockNumber: bigint;
  blockHash: Hex;
  transactionHash: Hex;
  logIndex: number;
  address: Address;
  topics: readonly Hex[];
  data: Hex;
  /** Decoded when the subscription named its `events`. */
  eventName?: string;
  args?: unknown;
}

export interface ChainReceipt {
  transactionHash: Hex;
  blockNumber: bigint;
  blockHash: Hex;
  status: "success" | "reverted";
  gasUsed: bigint;
  logs: ChainLog[];
}

export interface ReadRequest {
  to: Address;
  data: Hex;
  /** Read at this height instead of the latest block. */
  blockNumber?: bigint;
}

export interface WriteRequest {
  to: Address;
  data: Hex;
  gas?: bigint;
  value?: bigint;
  /**
   * A check-first read run alongside gas estimation (one round trip instead of two): the write is signed and sent
   * only once it resolves true. False cancels it (`CHAIN_WRITE_CANCELLED`), a rejection fails it; neither takes a
   * nonce.
   */
  proceed?: Promise<boolean>;
}

/**
 * What a subscription delivers, in order:
 * - `block`: every log of one block at `height` (all of them, in log order), once the block is buried under
 *   the confirmation depth. A range with no logs ends with one `block` carrying no logs, so every `block`
 *   is a checkpoint: after the handler returns, everything up to `height` has been delivered. A fresh
 *   subscription (no `known` blocks) starts with an empty `block` at `fromBlock - 1`: its reorg anchor.
 * - `reorg`: a block delivered earlier is no longer on the chain. Everything delivered at or above
 *   `forkHeight` is void; delivery resumes at `forkHeight` from the new chain.
 */
export type SubscriptionEvent =
  | { type: "block"; height: bigint; hash: Hex; logs: ChainLog[] }
  | { type: "reorg"; forkHeight: bigint; replaced: BlockRef; current: Hex | null };

export type SubscriptionHandler = (event: SubscriptionEvent) => Promise<void> | void;

/** Reported on every poll (for metrics and for tests that wait for the follower to see a head). */
export interface PollInfo {
  head: bigint;
  safeHead: bigint;
  next: bigint;
}

export interface SubscribeOptions {
  /** First height to deliver when `known` is empty. */
  fromBlock: bigint;
  /** Depth a block must be buried under before its logs are delivered (0 = deliver at the head). */
  confirmations: number;
  address?: Address | Address[];
  /** Only these events (by signature); their logs are decoded. All logs of `address` when absent. */
  events?: readonly AbiEvent[];
  /**
   * Blocks delivered before (the store's recent blocks, ascending): delivery resumes after the highest, and
   * their hashes are checked first, so a reorg that happened while the relayer was down is noticed.
   */
  known?: readonly BlockRef[];
  onPoll?: (info: PollInfo) => void;
  /** Transient RPC errors, which the subscription retries with backoff. */
  onError?: (error: unknown) => void;
}

/**
 * What ends a kept read (`ChainPlugin.readKept`, which takes several: any of them ends it): a log of these contracts
 * (of these events only, where given).
 */
export interface KeptWatch {
  address: readonly Address[];
  events?: readonly AbiEvent[];
}

/** A query for past events of one contract: what `ChainPlugin.events` answers. */
export interface EventQuery {
  address: Address;
  /** The event, by its ABI: its logs come decoded (`eventName`, `args`), and only its logs. */
  event: AbiEvent;
  /** Values of indexed arguments to match, by name (any value where absent). */
  args?: Record<string, unknown>;
  fromBlock: bigint;
  /** Inclusive; `"latest"`: to the node's head (a node may refuse a range that long: then ask in bounded ranges). */
  toBlock: bigint | "latest";
}

/**
 * The chain's clock and its past events. Reorg information: each log names the hash of the block it was seen in,
 * and logs the node marks removed are never returned; a caller that must not act on a block a reorg may still undo
 * follows the chain with `subscribe` instead, which delivers only confirmed blocks and says when one was replaced.
 */
export interface ChainEvents {
  /** The latest block height the node knows. */
  head(): Promise<bigint>;
  /** The latest block's time, in Unix seconds: the chain's own clock, which deadlines are checked against. */
  timestamp(): Promise<bigint>;
  /** The query's logs in chain order. */
  events(query: EventQuery): Promise<ChainLog[]>;
  /**
   * Resolves once the calls started so far have gone out to the node. A plugin that batches its calls sends them on
   * its own schedule; awaiting this before CPU-heavy work (signature checks) lets their round trips overlap that work
   * instead of following it. A plugin that sends at once resolves at once.
   */
  sent(): Promise<void>;
}

/**
 * One chain kind behind one interface. `subscribe` resolves when `signal` aborts and rejects when the
 * handler throws or a reorg goes deeper than the remembered window; RPC faults are retried.
 */
export interface ChainPlugin extends ChainEvents {
  readonly kind: string;
  /** The sub-chain's name in the config. */
  readonly name: string;
  /** Checks the node answers and serves the configured chain id. */
  connect(): Promise<ChainStatus>;
  status(): Promise<ChainStatus>;
  read(request: ReadRequest): Promise<Hex>;
  /**
   * `read` answered "now" from an identical earlier read while that is provably the same answer: the chain shows
   * every block since (same fork), and none of them may hold a log of `watch` (their logs bloom): of its contracts,
   * of its `events` only where given, which log every change of the state the call reads. Otherwise it is read
   * again. Absent where the plugin cannot tell.
   */
  readKept?(request: ReadRequest, watch: readonly KeptWatch[]): Promise<Hex>;
  /**
   * The runtime code hash of `address` at the latest block (or `blockNumber`): what EXTCODEHASH gives for a contract,
   * keccak256 of empty code where there is none. Audit attestations bind this hash.
   */
  codeHash(address: Address, blockNumber?: bigint): Promise<Hex>;
  /** Signs with the service key and sends; returns the transaction hash. */
  write(request: WriteRequest): Promise<Hex>;
  /** `null` while the transaction is not mined. */
  getReceipt(hash: Hex): Promise<ChainReceipt | null>;
  waitReceipt(hash: Hex, options?: { confirmations?: number; timeoutMs?: number }): Promise<ChainReceipt>;
  subscribe(options: SubscribeOptions, handler: SubscriptionHandler, signal: AbortSignal): Promise<void>;
  /**
   * A proof of `address`'s state at `blockNumber` (`slots`: the storage keys), where the chain kind has one (the EVM:
   * `eth_getProof`); absent on chains without state proofs.
   */
  proof?(address: Address, slots: readonly Hex[], blockNumber: bigint): Promise<unknown>;
  /**
   * The recipient and calldata of a transaction the node holds (`null`: it holds none by that hash), where the chain
   * kind has calldata (the EVM): the attester reads what an opening call opened from it.
   */
  transactionInput?(hash: Hex): Promise<{ to: Address | null; input: Hex } | null>;
}
