/**
 * Past events by indexed arguments, read through the chain plugin in bounded ranges: what the relayer needs after a
 * restart to find the transaction that did something it has no hash of (an execution, a recorded result).
 */
import {
  getAbiItem,
  type Abi,
  type AbiEvent,
  type Address,
  type ContractEventArgs,
  type ContractEventName,
  type GetEventArgs,
} from "viem";
import type { ChainEvents, ChainLog } from "../../../lib/chain/types";

/** A log of event `N` of `A`, its arguments decoded (every one of them, by name). */
export type DecodedLog<A extends Abi, N extends ContractEventName<A>> = ChainLog & {
  eventName: N;
  args: GetEventArgs<A, N, { EnableUnion: false; IndexedOnly: false; Required: true }>;
};

/**
 * The plugin decoded each log with the event's own ABI item (`EventQuery.event`), so its arguments have that event's
 * shape: a claim the compiler cannot check through the chain-agnostic `ChainLog` (`args: unknown`), made here only.
 */
const decoded = <A extends Abi, N extends ContractEventName<A>>(logs: ChainLog[]) => logs as DecodedLog<A, N>[];

/** How long a head seen stays recent enough to query from it to `latest` in one call (ms). */
const RECENT_HEAD_MS = 10_000;

/**
 * Reads of past events over any chain plugin (`ChainEvents`: the plugin itself, or the EVM's `EvmEvents` alone),
 * typed by the contract's ABI.
 */
export class LogReader {
  private _head: { height: bigint; at: number } | undefined;

  constructor(
    private readonly _chain: ChainEvents,
    private readonly _maxRange = 5_000n,
  ) {}

  async head(): Promise<bigint> {
    return this._seen(await this._chain.head());
  }

  /** The latest block's timestamp, in seconds: the chain's own clock (deadlines are checked against it). */
  timestamp(): Promise<bigint> {
    return this._chain.timestamp();
  }

  /** Resolves once the reads started so far have gone out to the node (see `ChainEvents.sent`). */
  sent(): Promise<void> {
    return this._chain.sent();
  }

  /**
   * Events `eventName` of `address` matching `args`, from `fromBlock` to the head, in chain order. A query that
   * starts near the head last seen (within half a range, seen in the last `RECENT_HEAD_MS`) is one `eth_getLogs` to
   * `latest`: the usual case (a transaction's own events), one round trip instead of two. A node that refuses it
   * (its range limit) gets the bounded ranges.
   */
  async events<const A extends Abi, N extends ContractEventName<A>>(query: {
    address: Address;
    abi: A;
    eventName: N;
    args?: ContractEventArgs<A, N>;
    fromBlock: bigint;
  }): Promise<DecodedLog<A, N>[]> {
    const seen = this._head;
    if (
      seen !== undefined &&
      Date.now() - seen.at < RECENT_HEAD_MS &&
      seen.height - query.fromBlock < this._maxRange / 2n
    ) {
      try {
        const logs = await this._range(query, query.fromBlock, "latest");
        const last = logs.at(-1)?.blockNumber;
        if (last !== undefined) this._seen(last);
        return decoded(logs);
      } catch {
        // the bounded ranges below
      }
    }
    const head = await this.head();
    const out: ChainLog[] = [];
    for (let from = query.fromBlock; from <= head; from += this._maxRange) {
      const to = from + this._maxRange - 1n < head ? from + this._maxRange - 1n : head;
      out.push(...(await this._range(query, from, to)));
    }
    return decoded(out);
  }

  private _range(
    query: { address: Address; abi: Abi; eventName: string; args?: unknown },
    fromBlock: bigint,
    toBlock: bigint | "latest",
  ): Promise<ChainLog[]> {
    const event = getAbiItem({ abi: query.abi, name: query.eventName }) as AbiEvent;
    const args = query.args as Record<string, unknown> | undefined;
    return this._chain.events({ address: query.address, event, args, fromBlock, toBlock });
  }

  private _seen(height: bigint): bigint {
    if (this._head === undefined || height >= this._head.height) this._head = { height, at: Date.now() };
    return height;
  }
}
