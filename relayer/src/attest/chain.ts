/**
 * The governance chain as an attester reads it: the chain plugin over the attester's own endpoint, like every other
 * reader of a chain (nothing in the attester talks to viem's clients itself). Heads are pushed over the node's
 * WebSocket where it has one, so a new open is seen one `eth_getLogs` after its block; without, it is polled.
 */
import { type Address, type Hex, type LocalAccount } from "viem";
import { silentLogger, type Logger } from "../../../lib/infra/log";
import { EvmChainPlugin, RPC_TIMEOUT_MS, RpcPools } from "../chains";

export interface AttesterChain {
  chain: EvmChainPlugin;
  /** Closes its connections (after the attester stopped). */
  close(): void;
}

/** Connects to the governance node at `rpcUrl` (its chain id asked of it) for an attester of `ledger`. */
export async function attesterChain(
  rpcUrl: string,
  ledger: Address,
  account: LocalAccount,
  options: { pollIntervalMs?: number; log?: Logger } = {},
): Promise<AttesterChain> {
  const rpc = new RpcPools({ timeoutMs: RPC_TIMEOUT_MS });
  const chainId = Number(BigInt((await rpc.get(rpcUrl, "governance").request("eth_chainId")) as Hex));
  const chain = new EvmChainPlugin(
    {
      kind: "evm",
      rpcUrl,
      chainId,
      // The plugin's `gateway` is unused on the governance chain; the ledger stands in for it.
      gateway: ledger,
      confirmations: 0,
      startBlock: 0,
      pollIntervalMs: options.pollIntervalMs ?? 100,
      maxBlockRange: 1_000,
      reorgWindow: 128,
    },
    { name: "governance", signer: account, logger: options.log ?? silentLogger(), rpc },
  );
  await chain.connect();
  return { chain, close: () => rpc.close() };
}
