export { loadConfig, parseConfig, ConfigError, type ConfigIssue, type LoadConfigOptions } from "./load";
export { configSchema, keySourceSchema, type RelayerConfig, type KeySource, type RateConfig } from "./schema";
export { ENV_OVERRIDES, chainOverrides, applyEnvOverrides, type EnvOverride } from "./env";
export { findSecrets, type SecretFinding } from "./secrets";
