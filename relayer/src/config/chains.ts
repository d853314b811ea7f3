import { z } from "zod";
import { address, chainId, confirmations, httpUrl, wsUrl } from "./primitives";

/** Config of one EVM sub-chain (`chains.<name>` with `kind: "evm"`). */
export const evmChainConfigSchema = z.strictObject({
  kind: z.literal("evm"),
  rpcUrl: httpUrl,
  /**
   * The node's WebSocket endpoint, for new heads pushed (`eth_subscribe`) instead of polled. Default: `rpcUrl`'s host
   * and port over `ws:` for a node on this machine (anvil, Hardhat), none for a remote one; `false`: poll only.
   */
  wsUrl: wsUrl.or(z.literal(false)).optional(),
  chainId,
  /** The CCGP gateway contract on this sub-chain (its events start outbound requests). */
  gateway: address,
  /** Blocks a log must be buried under before it is delivered. */
  confirmations: confirmations.default(2),
  /** First block to scan when no checkpoint exists (usually the gateway's deployment block). */
  startBlock: z.int().min(0).default(0),
  pollIntervalMs: z.int().min(10).max(600_000).default(1_000),
  /** Upper bound of one `eth_getLogs` range, in blocks. */
  maxBlockRange: z.int().min(1).max(100_000).default(1_000),
  /** How many delivered blocks are remembered (by hash) to detect reorgs. */
  reorgWindow: z.int().min(1).max(10_000).default(128),
  /**
   * Send writes with `eth_sendRawTransactionSync` (EIP-7966) where the node has it: the receipt comes back with the
   * send, no polling (default). A node without it, or one that does not mine within a second, is sent to plainly.
   */
  sendSync: z.boolean().optional(),
});

export type EvmChainConfig = z.output<typeof evmChainConfigSchema>;

/**
 * A sub-chain's config, by kind. The schemas live here, in the bottom layer, so that the config schema needs nothing
 * from `chains/`; the kinds themselves are registered in `chains/kinds.ts`. Adding a kind: its schema here, its
 * `ChainKind` in `chains/<kind>/`.
 */
export const chainConfigSchema = z.discriminatedUnion("kind", [evmChainConfigSchema]);

export type ChainConfig = z.output<typeof chainConfigSchema>;
