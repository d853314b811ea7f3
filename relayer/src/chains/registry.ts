import type { LocalAccount } from "viem";
import type { z } from "zod";
import { CcgpError } from "../../../lib/infra/errors";
import type { Logger } from "../../../lib/infra/log";
import type { RpcPools } from "./evm/rpc";
import type { ChainPlugin } from "../../../lib/chain/types";

export interface ChainPluginDeps {
  /** The sub-chain's name in the config (`chains.<name>`). */
  name: string;
  /** Signs writes; a plugin without one refuses `write`. */
  signer?: LocalAccount;
  logger: Logger;
  /** Connections shared per node URL (JSON-RPC kinds); a plugin given none opens its own. */
  rpc?: RpcPools;
}

/** One chain kind: its config schema and how to build its plugin. A new kind is one of these, registered. */
export interface ChainKind<C extends { kind: string }> {
  kind: C["kind"];
  configSchema: z.ZodType<C>;
  create(config: C, deps: ChainPluginDeps): ChainPlugin;
}

interface Entry {
  schema: z.ZodType<unknown>;
  create(config: unknown, deps: ChainPluginDeps): ChainPlugin;
}

/** Chain plugins keyed by kind. */
export class ChainRegistry {
  private readonly _entries = new Map<string, Entry>();

  register<C extends { kind: string }>(definition: ChainKind<C>): this {
    if (this._entries.has(definition.kind))
      throw new CcgpError("CHAIN_KIND_DUPLICATE", `chain kind "${definition.kind}" is already registered`, {
        kind: definition.kind,
      });
    this._entries.set(definition.kind, {
      schema: definition.configSchema,
      create: (config, deps) => definition.create(definition.configSchema.parse(config), deps),
    });
    return this;
  }

  kinds(): string[] {
    return [...this._entries.keys()];
  }

  /** Builds the plugin for one configured sub-chain; an unregistered kind is refused naming the known ones. */
  create(config: { kind: string; [field: string]: unknown }, deps: ChainPluginDeps): ChainPlugin {
    const entry = this._entries.get(config.kind);
    if (entry === undefined)
      throw new CcgpError(
        "CHAIN_KIND_UNKNOWN",
        `chains.${deps.name}: no plugin for chain kind "${config.kind}" (registered: ${this.kinds().join(", ")})`,
        { kind: config.kind, chain: deps.name, registered: this.kinds() },
      );
    return entry.create(config, deps);
  }
}
