/**
 * Follows the gateway's `CrossChainRequested` events behind the configured confirmation depth (chain-initiated
 * mode). Each confirmed block is recorded with its requests as outbox items in one SQLite transaction, so the
 * checkpoint never passes a request that is not stored; a reorg rewinds the checkpoint and orphans what it removed.
 */
import { getAbiItem, type AbiEvent, type Address } from "viem";
import { gatewayAbi } from "../../../lib/abi/contracts";
import type { OutboxInput } from "../store";
import type { SubchainBinding, TxContext } from "../tx/context";
import { work } from "../work/items";

const REQUESTED = getAbiItem({ abi: gatewayAbi, name: "CrossChainRequested" }) as AbiEvent;

interface RequestedArgs {
  requestId: `0x${string}`;
  pipeId: `0x${string}`;
  sender: Address;
  contractName: `0x${string}`;
  operation: number;
  payload: `0x${string}`;
  nonce: bigint;
}

/**
 * What following the requests takes: the sub-chain (any chain kind: only its plugin's `subscribe` is used), the store,
 * and where to report. Nothing here is EVM-specific.
 */
export interface RequestFollowing {
  subchain: Pick<SubchainBinding, "name" | "chain" | "confirmations"> & { gateway: { address: Address } };
  config: { chains: Record<string, { startBlock: number } | undefined> };
  store: Pick<TxContext["store"], "recentBlocks" | "checkpoint" | "rewind" | "recordBlock">;
  metrics: Pick<TxContext["metrics"], "record">;
  log: TxContext["log"];
  worker: Pick<TxContext["worker"], "kick">;
}

export function followRequests(rt: RequestFollowing, signal: AbortSignal): Promise<void> {
  const { name, chain, gateway, confirmations } = rt.subchain;
  const startBlock = rt.config.chains[name]?.startBlock ?? 0;
  return chain.subscribe(
    {
      fromBlock: BigInt(startBlock),
      confirmations,
      address: gateway.address,
      events: [REQUESTED],
      known: rt.store.recentBlocks(name),
      onPoll: (info) => {
        const processed = rt.store.checkpoint(name)?.height ?? 0n;
        rt.metrics.record({ type: "chainProgress", chain: name, head: info.head, processed });
      },
      onError: (error) => rt.log.warn({ err: error, chain: name }, "sub-chain poll failed; retrying"),
    },
    async (event) => {
      if (event.type === "reorg") {
        const rewound = rt.store.rewind(name, event.forkHeight);
        rt.metrics.record({ type: "reorg", chain: name, forkHeight: event.forkHeight });
        rt.log.warn(
          {
            chain: name,
            forkHeight: event.forkHeight.toString(),
            orphaned: rewound.orphaned,
            inFlight: rewound.inFlight.length,
          },
          "reorg",
        );
        return;
      }
      const items: OutboxInput[] = event.logs
        .filter((log) => log.eventName === "CrossChainRequested")
        .map((log) => {
          const a = log.args as RequestedArgs;
          return work.chainRequest({
            chain: name,
            requestId: a.requestId,
            pipeId: a.pipeId,
            sender: a.sender,
            contractName: a.contractName,
            operation: Number(a.operation),
            payload: a.payload,
            nonce: a.nonce.toString(),
            blockNumber: log.blockNumber.toString(),
          });
        });
      rt.store.recordBlock(name, event.height, event.hash, items);
      if (items.length > 0) {
        rt.log.info(
          { chain: name, height: event.height.toString(), requests: items.length },
          "cross-chain requests confirmed",
        );
        rt.worker.kick();
      }
    },
    signal,
  );
}
