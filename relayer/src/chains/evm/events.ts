/**
 * The EVM plugin's reads of the chain's clock and past events: the head, the latest block's time and `eth_getLogs`,
 * over the node's shared connection. The plugin serves them (`ChainPlugin.head`, `timestamp`, `events`); tests and
 * tools that need only these take this part alone.
 */
import { createPublicClient, type Hex, type Log, type PublicClient } from "viem";
import { CcgpError } from "../../../../lib/infra/errors";
import type { ChainEvents, ChainLog, EventQuery } from "../../../../lib/chain/types";
import { afterQueuedCalls, JsonRpcHttp, rpcTransport } from "./rpc";

type DecodedLog = Log<bigint, number, false> & { eventName?: string; args?: unknown };

export function toChainLog(log: DecodedLog): ChainLog {
  if (log.blockNumber === null || log.blockHash === null || log.transactionHash === null || log.logIndex === null)
    throw new CcgpError("CHAIN_LOG_PENDING", "node returned a log without its block (pending log)", {
      address: log.address,
    });
  return {
    blockNumber: log.blockNumber,
    blockHash: log.blockHash,
    transactionHash: log.transactionHash,
    logIndex: log.logIndex,
    address: log.address,
    topics: log.topics,
    data: log.data,
    ...(log.eventName === undefined ? {} : { eventName: log.eventName, args: log.args }),
  };
}

/**
 * A viem client over a connection of its own to `url`, for the auditor mounted in a relayer: the auditor is a product
 * of its own whose index and API read through viem, and the relayer hands it this client rather than building one.
 */
export function evmReadClient(url: string, timeoutMs = 30_000): PublicClient {
  return createPublicClient({
    transport: rpcTransport(new JsonRpcHttp(url, { timeoutMs }), { retryCount: 2 }),
    cacheTime: 0,
  });
}

export class EvmEvents implements ChainEvents {
  private readonly _client: PublicClient;

  /** `rpc`: the node's shared connection (or its URL, for a connection of its own). */
  constructor(rpc: JsonRpcHttp | string) {
    const connection = typeof rpc === "string" ? new JsonRpcHttp(rpc, { timeoutMs: 15_000 }) : rpc;
    // cacheTime 0: each call sees the node's head now, not a cached block number.
    this._client = createPublicClient({ transport: rpcTransport(connection, { retryCount: 2 }), cacheTime: 0 });
  }

  head(): Promise<bigint> {
    return this._client.getBlockNumber();
  }

  async timestamp(): Promise<bigint> {
    return (await this._client.getBlock({ blockTag: "latest" })).timestamp;
  }

  async events(query: EventQuery): Promise<ChainLog[]> {
    const logs = await this._client.getLogs({
      address: query.address,
      event: query.event,
      args: query.args,
      fromBlock: query.fromBlock,
      toBlock: query.toBlock,
      strict: true,
    } as never);
    return (logs as DecodedLog[]).filter((l) => !l.removed).map(toChainLog);
  }

  sent(): Promise<void> {
    return afterQueuedCalls();
  }

  /** `eth_getProof`: the account and storage proof of `address` at `blockNumber` (the node's JSON answer). */
  async proof(address: Hex, slots: readonly Hex[], blockNumber: bigint): Promise<unknown> {
    return this._client.getProof({ address, storageKeys: [...slots], blockNumber });
  }
}
