/**
 * The running relayer as the composition root (`relayer.ts`) assembles it: everything the layers below take a part
 * of. Only the root and the tools that drive a whole relayer (tests, benches) see all of it; the transaction driver
 * takes `TxContext`, and smaller functions a `Pick` of the parts they use.
 */
import type { ChainPlugin } from "../../lib/chain/types";
import type { TxContext } from "./tx/context";

export interface Runtime extends TxContext {
  /** The governance chain, which only the root talks to directly (sync, heartbeats, health). */
  govChain: ChainPlugin;
}
