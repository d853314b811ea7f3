export * from "../../../lib/chain/types";
export { ChainRegistry, type ChainKind, type ChainPluginDeps } from "./registry";
export { ConfirmedLogFollower, sleep, type FollowOptions, type LogSource } from "../../../lib/chain/follow";
export { chainConfigSchema, chainRegistry, type ChainConfig } from "./kinds";
export { EvmChainPlugin, RPC_TIMEOUT_MS, evmChainKind } from "./evm/plugin";
export { JsonRpcHttp, RpcPools } from "./evm/rpc";
export { evmReadClient } from "./evm/events";
export { evmChainConfigSchema, type EvmChainConfig } from "../config/chains";
