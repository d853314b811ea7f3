export * from "./errors";
export * from "./types";
export {
  GOVERNANCE_CONTRACTS,
  CONTRACT_KEYS,
  DEFAULT_ARTIFACTS_DIR,
  loadAbi,
  governanceAbis,
  type ContractKey,
} from "./abi";
export { EventDecoder, columnsOf, toJsonValue } from "./decode";
export { PacketRecovery } from "./packets";
export { IndexStore, type IndexStoreOptions } from "./store";
export { GovernanceIndexer, type IndexerOptions, type IndexProgress } from "./indexer";
export * from "./trace";
export * from "./receipts";
export * from "./reconcile";
export * from "./list";
export * from "./export";
export * from "./anomalies";
export * from "./auth";
export * from "./params";
export * from "./queries";
export {
  createAuditorHandler,
  startAuditorApi,
  type AuditorApiOptions,
  type AuditorHandler,
  type StartedAuditorApi,
} from "./api";
export { parseState, stateName, reasonName, outcomeName, FINAL_STATES } from "./names";
