import { z } from "zod";
import { evmChainConfigSchema } from "./evm/config";
import { evmChainKind } from "./evm/plugin";
import { ChainRegistry } from "./registry";

/**
 * The one place chain kinds are registered. Adding a kind: write `chains/<kind>/` (its config schema and a
 * `ChainKind`), then add the schema to `chainConfigSchema` and the kind to `chainRegistry` below.
 */
export const chainConfigSchema = z.discriminatedUnion("kind", [evmChainConfigSchema]);

export type ChainConfig = z.output<typeof chainConfigSchema>;

export const chainRegistry = new ChainRegistry().register(evmChainKind);
