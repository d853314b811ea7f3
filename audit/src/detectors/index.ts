import type { Detector, Rule } from "./types";
import { arbitraryCall } from "./arbitrary-call";
import { controlledDelegatecall } from "./controlled-delegatecall";
import { encodePacked } from "./encode-packed";
import { reentrancy } from "./reentrancy";
import { selfdestruct } from "./selfdestruct";
import { signature } from "./signature";
import { txOrigin } from "./tx-origin";
import { unboundedLoop } from "./unbounded-loop";
import { uncheckedCall } from "./unchecked-call";
import { unprotectedInitializer } from "./unprotected-initializer";
import { unprotectedStateChange } from "./unprotected-state-change";
import { weakRandomness } from "./weak-randomness";

export type { Detector, DetectorContext, Rule } from "./types";

/** The built-in detectors, in the order they run. */
export const DETECTORS: readonly Detector[] = [
  reentrancy,
  unprotectedStateChange,
  txOrigin,
  controlledDelegatecall,
  arbitraryCall,
  uncheckedCall,
  signature,
  selfdestruct,
  unprotectedInitializer,
  weakRandomness,
  encodePacked,
  unboundedLoop,
];

/** Every built-in rule by id. */
export const BUILTIN_RULES: ReadonlyMap<string, Rule> = new Map(
  DETECTORS.flatMap((d) => d.rules.map((r) => [r.id, r])),
);
