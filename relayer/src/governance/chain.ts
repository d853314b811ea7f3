/** The governance chain as a chain plugin, as the relayer and the independent verifier both connect to it. */
import type { Address, LocalAccount } from "viem";
import { EvmChainPlugin, type RpcPools } from "../chains";
import { moduleLogger, type Logger } from "../../../lib/infra/log";

export interface GovernanceEndpoint {
  rpcUrl: string;
  wsUrl?: string | false;
  chainId: number;
  contracts: { ledger: Address };
  confirmations: number;
  pollIntervalMs: number;
  sendSync?: boolean;
}

export function governanceChain(
  g: GovernanceEndpoint,
  signer: LocalAccount,
  log: Logger,
  rpc: RpcPools,
): EvmChainPlugin {
  return new EvmChainPlugin(
    {
      kind: "evm",
      rpcUrl: g.rpcUrl,
      wsUrl: g.wsUrl,
      chainId: g.chainId,
      // The plugin's `gateway` is unused on the governance chain; the ledger stands in for it.
      gateway: g.contracts.ledger,
      confirmations: g.confirmations,
      startBlock: 0,
      pollIntervalMs: g.pollIntervalMs,
      maxBlockRange: 1_000,
      reorgWindow: 128,
      sendSync: g.sendSync,
    },
    { name: "governance", signer, logger: moduleLogger(log, "chains.governance"), rpc },
  );
}
