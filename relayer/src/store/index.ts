export { RelayerStore, type StoreOptions } from "./store";
export * from "./types";
