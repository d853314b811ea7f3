/**
 * Past events by indexed arguments (`eth_getLogs`), read in bounded ranges: what the relayer needs after a restart to
 * find the transaction that did something it has no hash of (an execution, a recorded result).
 */
import {
  createPublicClient,
  type Abi,
  type Address,
  type ContractEventArgs,
  type ContractEventName,
  type GetContractEventsReturnType,
  type PublicClient,
} from "viem";
import { JsonRpcHttp, rpcTransport } from "../chains/evm/rpc";

/** How long a head seen stays recent enough to query from it to `latest` in one call (ms). */
const RECENT_HEAD_MS = 10_000;

export class LogReader {
  private readonly _client: PublicClient;
  private _head: { height: bigint; at: number } | undefined;

  /** `rpc`: the node's shared connection (or its URL, for a connection of its own). */
  constructor(
    rpc: JsonRpcHttp | string,
    private readonly _maxRange = 5_000n,
  ) {
    const connection = typeof rpc === "string" ? new JsonRpcHttp(rpc, { timeoutMs: 15_000 }) : rpc;
    this._client = createPublicClient({ transport: rpcTransport(connection, { retryCount: 2 }), cacheTime: 0 });
  }

  async head(): Promise<bigint> {
    return this._seen(await this._client.getBlockNumber());
  }

  /** The latest block's timestamp, in seconds: the chain's own clock (deadlines are checked against it). */
  async timestamp(): Promise<bigint> {
    return (await this._client.getBlock({ blockTag: "latest" })).timestamp;
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
  }): Promise<GetContractEventsReturnType<A, N, true>> {
    const seen = this._head;
    if (
      seen !== undefined &&
      Date.now() - seen.at < RECENT_HEAD_MS &&
      seen.height - query.fromBlock < this._maxRange / 2n
    ) {
      try {
        const logs = await this._range(query, query.fromBlock, "latest");
        const last = logs.at(-1)?.blockNumber;
        if (last !== undefined && last !== null) this._seen(last);
        return logs as GetContractEventsReturnType<A, N, true>;
      } catch {
        // the bounded ranges below
      }
    }
    const head = await this.head();
    const out: unknown[] = [];
    for (let from = query.fromBlock; from <= head; from += this._maxRange) {
      const to = from + this._maxRange - 1n < head ? from + this._maxRange - 1n : head;
      out.push(...(await this._range(query, from, to)));
    }
    return out as GetContractEventsReturnType<A, N, true>;
  }

  private async _range(
    query: { address: Address; abi: Abi; eventName: string; args?: unknown },
    fromBlock: bigint,
    toBlock: bigint | "latest",
  ): Promise<Array<{ blockNumber: bigint | null }>> {
    const logs = await this._client.getContractEvents({
      address: query.address,
      abi: query.abi,
      eventName: query.eventName,
      args: query.args,
      fromBlock,
      toBlock,
      strict: true,
    } as never);
    return (logs as Array<{ removed?: boolean; blockNumber: bigint | null }>).filter((l) => !l.removed);
  }

  private _seen(height: bigint): bigint {
    if (this._head === undefined || height >= this._head.height) this._head = { height, at: Date.now() };
    return height;
  }
}
