/**
 * Environment overrides (`CCGP_*`). Each variable sets one config field after the file is read and before
 * validation, so a bad value is refused like a bad file value, naming both the field and the variable.
 */

type ValueType = "string" | "int" | "bool";

export interface EnvOverride {
  name: string;
  path: string[];
  type: ValueType;
}

/** The fixed overrides; `CCGP_CHAIN_<NAME>_*` ones are derived per sub-chain (see `chainOverrides`). */
export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { name: "CCGP_INSTITUTION_ID", path: ["institutionId"], type: "int" },
  { name: "CCGP_GOVERNANCE_RPC", path: ["governance", "rpcUrl"], type: "string" },
  { name: "CCGP_GOVERNANCE_CHAIN_ID", path: ["governance", "chainId"], type: "int" },
  { name: "CCGP_GOVERNANCE_CONFIRMATIONS", path: ["governance", "confirmations"], type: "int" },
  { name: "CCGP_SERVER_HOST", path: ["server", "host"], type: "string" },
  { name: "CCGP_SERVER_PORT", path: ["server", "port"], type: "int" },
  { name: "CCGP_TLS_CERT", path: ["server", "tls", "cert"], type: "string" },
  { name: "CCGP_TLS_KEY", path: ["server", "tls", "key"], type: "string" },
  { name: "CCGP_TLS_CA", path: ["server", "tls", "ca"], type: "string" },
  { name: "CCGP_STORE_PATH", path: ["store", "path"], type: "string" },
  { name: "CCGP_LOG_LEVEL", path: ["log", "level"], type: "string" },
  { name: "CCGP_LOG_FORMAT", path: ["log", "format"], type: "string" },
  { name: "CCGP_METRICS_ENABLED", path: ["metrics", "enabled"], type: "bool" },
  { name: "CCGP_METRICS_HOST", path: ["metrics", "host"], type: "string" },
  { name: "CCGP_METRICS_PORT", path: ["metrics", "port"], type: "int" },
  { name: "CCGP_LIMIT_MAX_QUEUE", path: ["limits", "maxQueue"], type: "int" },
  { name: "CCGP_LIMIT_MAX_PAYLOAD_BYTES", path: ["limits", "maxPayloadBytes"], type: "int" },
];

const CHAIN_FIELDS: ReadonlyArray<[suffix: string, field: string, type: ValueType]> = [
  ["RPC", "rpcUrl", "string"],
  ["CHAIN_ID", "chainId", "int"],
  ["GATEWAY", "gateway", "string"],
  ["CONFIRMATIONS", "confirmations", "int"],
  ["START_BLOCK", "startBlock", "int"],
];

/** `CCGP_CHAIN_<NAME>_RPC` etc. for each sub-chain named in the file (`sub_a` -> `CCGP_CHAIN_SUB_A_RPC`). */
export function chainOverrides(chainNames: readonly string[]): EnvOverride[] {
  return chainNames.flatMap((chain) =>
    CHAIN_FIELDS.map(([suffix, field, type]) => ({
      name: `CCGP_CHAIN_${chain.toUpperCase()}_${suffix}`,
      path: ["chains", chain, field],
      type,
    })),
  );
}

/** Strings that do not parse stay strings, so the schema refuses them with its usual message. */
function convert(raw: string, type: ValueType): unknown {
  if (type === "int") return /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (type === "bool") {
    const v = raw.trim().toLowerCase();
    if (v === "true" || v === "1") return true;
    if (v === "false" || v === "0") return false;
    return raw;
  }
  return raw;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isRecord(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

/**
 * Applies every set `CCGP_*` override to `raw` (mutated) and returns, per dotted field path, the variable
 * that set it, so validation messages can say where a bad value came from.
 */
export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Map<string, string> {
  const chainNames = isRecord(raw.chains) ? Object.keys(raw.chains) : [];
  const applied = new Map<string, string>();
  for (const override of [...ENV_OVERRIDES, ...chainOverrides(chainNames)]) {
    const value = env[override.name];
    if (value === undefined || value === "") continue;
    setPath(raw, override.path, convert(value, override.type));
    applied.set(override.path.join("."), override.name);
  }
  return applied;
}
