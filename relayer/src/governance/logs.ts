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

export class LogReader {
  private readonly _client: PublicClient;

  constructor(
    rpcUrl: string,
    private readonly _maxRange = 5_000n,
  ) {
    this._client = createPublicClient({ transport: rpcTransport(new JsonRpcHttp(rpcUrl, { timeoutMs: 15_000 }), { retryCount: 2 }), cacheTime: 0 });
  }

  head(): Promise<bigint> {
    return this._client.getBlockNumber();
  }

  /** The latest block's timestamp, in seconds: the chain's own clock (deadlines are checked against it). */
  async timestamp(): Promise<bigint> {
    return (await this._client.getBlock({ blockTag: "latest" })).timestamp;
  }

  /** Events `eventName` of `address` matching `args`, from `fromBlock` to the head, in chain order. */
  async events<const A extends Abi, N extends ContractEventName<A>>(query: {
    address: Address;
    abi: A;
    eventName: N;
    args?: ContractEventArgs<A, N>;
    fromBlock: bigint;
  }): Promise<GetContractEventsReturnType<A, N, true>> {
    const head = await this._client.getBlockNumber();
    const out: unknown[] = [];
    for (let from = query.fromBlock; from <= head; from += this._maxRange) {
      const to = from + this._maxRange - 1n < head ? from + this._maxRange - 1n : head;
      const logs = await this._client.getContractEvents({
        address: query.address,
        abi: query.abi,
        eventName: query.eventName,
        args: query.args,
        fromBlock: from,
        toBlock: to,
        strict: true,
      } as never);
      out.push(...(logs as unknown[]).filter((l) => !(l as { removed?: boolean }).removed));
    }
    return out as GetContractEventsReturnType<A, N, true>;
  }
}
