/**
 * A chain kept in memory behind the same `ChainPlugin` interface as the EVM plugin: blocks of decoded events, a
 * clock, reads and writes answered by handlers the test registers, and reorgs on demand. Runtime parts that take a
 * plugin run over it unchanged, which is what shows they need nothing EVM-specific. It has no state proofs, as a
 * chain kind without them would not (`proof` is absent).
 */
import { keccak256, toHex, type Address, type Hex } from "viem";
import { CcgpError } from "../../../lib/infra/errors";
import { ConfirmedLogFollower, type LogSource } from "../../../lib/chain/follow";
import type {
  ChainLog,
  ChainPlugin,
  ChainReceipt,
  ChainStatus,
  EventQuery,
  ReadRequest,
  SubscribeOptions,
  SubscriptionHandler,
  WriteRequest,
} from "../../../lib/chain/types";

/** An event as a contract on the memory chain emits it. */
export interface MemoryEvent {
  address: Address;
  eventName: string;
  args: Record<string, unknown>;
}

interface MemoryBlock {
  height: bigint;
  hash: Hex;
  timestamp: bigint;
  logs: ChainLog[];
}

/** What a write runs: the events it emits (a throw reverts it). */
export type WriteHandler = (data: Hex) => MemoryEvent[];

export class MemoryChain implements ChainPlugin {
  readonly kind = "memory";
  private readonly _blocks: MemoryBlock[] = [];
  private readonly _receipts = new Map<Hex, ChainReceipt>();
  private readonly _reads = new Map<Address, (data: Hex) => Hex>();
  private readonly _writes = new Map<Address, WriteHandler>();
  private _branch = 0;
  private _txCount = 0;

  constructor(
    readonly name: string,
    private readonly _chainId = 31_000,
    /** Seconds per block on the chain's clock. */
    private readonly _blockSeconds = 2n,
  ) {
    this._blocks.push({ height: 0n, hash: this._hashOf(0n), timestamp: 1_700_000_000n, logs: [] });
  }

  // ---- what a test drives ---------------------------------------------------------------------------

  /** Appends one block holding `events` (in one transaction each); returns its height. */
  mine(...events: MemoryEvent[]): bigint {
    const tip = this._blocks.at(-1)!;
    const height = tip.height + 1n;
    const hash = this._hashOf(height);
    const logs = events.map((e, logIndex) => this._log(e, height, hash, logIndex, this._txHash()));
    this._blocks.push({ height, hash, timestamp: tip.timestamp + this._blockSeconds, logs });
    return height;
  }

  /** Drops every block at or above `height`: the next `mine` calls build a new branch there. */
  reorg(height: bigint): void {
    if (height < 1n || height >= BigInt(this._blocks.length))
      throw new Error(`no block ${height} to replace (head ${this._blocks.length - 1})`);
    this._blocks.length = Number(height);
    this._branch += 1;
  }

  onRead(address: Address, handler: (data: Hex) => Hex): void {
    this._reads.set(address.toLowerCase() as Address, handler);
  }

  onWrite(address: Address, handler: WriteHandler): void {
    this._writes.set(address.toLowerCase() as Address, handler);
  }

  // ---- ChainPlugin ----------------------------------------------------------------------------------

  connect(): Promise<ChainStatus> {
    return this.status();
  }

  async status(): Promise<ChainStatus> {
    return { chainId: this._chainId, height: await this.head(), syncing: false };
  }

  async head(): Promise<bigint> {
    return this._blocks.at(-1)!.height;
  }

  async timestamp(): Promise<bigint> {
    return this._blocks.at(-1)!.timestamp;
  }

  /** Calls are answered at once: nothing waits to be sent. */
  async sent(): Promise<void> {}

  async events(query: EventQuery): Promise<ChainLog[]> {
    const to = query.toBlock === "latest" ? await this.head() : query.toBlock;
    const wanted = Object.entries(query.args ?? {}).filter(([, v]) => v !== undefined && v !== null);
    return this._logsIn(query.fromBlock, to).filter(
      (l) =>
        l.address === query.address.toLowerCase() &&
        l.eventName === query.event.name &&
        wanted.every(([k, v]) => sameValue((l.args as Record<string, unknown>)[k], v)),
    );
  }

  async read(request: ReadRequest): Promise<Hex> {
    const handler = this._reads.get(request.to.toLowerCase() as Address);
    if (handler === undefined)
      throw new CcgpError("CHAIN_READ_FAILED", `chains.${this.name}: nothing answers at ${request.to}`, {
        chain: this.name,
        to: request.to,
      });
    return handler(request.data);
  }

  async codeHash(address: Address): Promise<Hex> {
    return this._reads.has(address.toLowerCase() as Address) ? keccak256(toHex(address)) : keccak256("0x");
  }

  async write(request: WriteRequest): Promise<Hex> {
    if (request.proceed !== undefined && !(await request.proceed))
      throw new CcgpError("CHAIN_WRITE_CANCELLED", `chains.${this.name}: the write's check said no`, {});
    const handler = this._writes.get(request.to.toLowerCase() as Address);
    const txHash = this._txHash();
    let events: MemoryEvent[] = [];
    let status: ChainReceipt["status"] = "success";
    try {
      if (handler === undefined) throw new Error("no contract");
      events = handler(request.data);
    } catch {
      status = "reverted";
    }
    const height = this.mine();
    const block = this._blocks[Number(height)]!;
    block.logs = events.map((e, i) => this._log(e, height, block.hash, i, txHash));
    this._receipts.set(txHash, {
      transactionHash: txHash,
      blockNumber: height,
      blockHash: block.hash,
      status,
      gasUsed: 0n,
      logs: block.logs,
    });
    return txHash;
  }

  async getReceipt(hash: Hex): Promise<ChainReceipt | null> {
    const receipt = this._receipts.get(hash);
    // A receipt of a block a reorg removed is gone with it.
    return receipt !== undefined && this._blocks[Number(receipt.blockNumber)]?.hash === receipt.blockHash
      ? receipt
      : null;
  }

  async waitReceipt(hash: Hex): Promise<ChainReceipt> {
    const receipt = await this.getReceipt(hash);
    if (receipt === null)
      throw new CcgpError("CHAIN_TX_DROPPED", `chains.${this.name}: ${hash} is not on the chain`, {});
    return receipt;
  }

  subscribe(options: SubscribeOptions, handler: SubscriptionHandler, signal: AbortSignal): Promise<void> {
    const names = options.events?.map((e) => e.name);
    const addresses = [options.address ?? []].flat().map((a) => a.toLowerCase());
    const source: LogSource = {
      head: () => this.head(),
      blockHash: async (height) => this._blocks[Number(height)]?.hash ?? null,
      logs: async (from, to) =>
        this._logsIn(from, to).filter(
          (l) =>
            (addresses.length === 0 || addresses.includes(l.address)) &&
            (names === undefined || names.includes(l.eventName ?? "")),
        ),
    };
    const follower = new ConfirmedLogFollower(source, {
      ...options,
      pollIntervalMs: 5,
      maxBlockRange: 16,
      reorgWindow: 64,
    });
    return follower.run(handler, signal);
  }

  // ---- inside ---------------------------------------------------------------------------------------

  private _logsIn(from: bigint, to: bigint): ChainLog[] {
    return this._blocks.filter((b) => b.height >= from && b.height <= to).flatMap((b) => b.logs);
  }

  private _log(e: MemoryEvent, height: bigint, hash: Hex, logIndex: number, txHash: Hex): ChainLog {
    return {
      blockNumber: height,
      blockHash: hash,
      transactionHash: txHash,
      logIndex,
      address: e.address.toLowerCase() as Address,
      topics: [],
      data: "0x",
      eventName: e.eventName,
      args: e.args,
    };
  }

  private _hashOf(height: bigint): Hex {
    return keccak256(toHex(`${this.name}:${this._branch}:${height}`));
  }

  private _txHash(): Hex {
    return keccak256(toHex(`${this.name}:tx:${++this._txCount}`));
  }
}

const sameValue = (a: unknown, b: unknown): boolean =>
  typeof a === "string" && typeof b === "string" ? a.toLowerCase() === b.toLowerCase() : a === b;
