import { evmChainKind } from "./evm/plugin";
import { ChainRegistry } from "./registry";

/**
 * The one place chain kinds are registered. Adding a kind: its config schema in `config/chains.ts`
 * (`chainConfigSchema`), a `ChainKind` in `chains/<kind>/`, then the kind in `chainRegistry` below.
 */
export const chainRegistry = new ChainRegistry().register(evmChainKind);

export { chainConfigSchema, type ChainConfig } from "../config/chains";
