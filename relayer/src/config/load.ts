import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import type { z } from "zod";
import { CcgpError } from "../../../lib/infra/errors";
import { applyEnvOverrides } from "./env";
import { configSchema, type RelayerConfig } from "./schema";
import { findSecrets } from "./secrets";

export interface ConfigIssue {
  /** Dotted path from the root, e.g. `config.chains.sub_a.rpcUrl`. */
  path: string;
  message: string;
}

/** A config refused at start. The message lists every bad field, one per line, each by its path. */
export class ConfigError extends CcgpError {
  constructor(
    code: "CONFIG_MISSING" | "CONFIG_NOT_FOUND" | "CONFIG_NOT_JSON" | "CONFIG_INVALID",
    readonly source: string,
    readonly issues: ConfigIssue[],
    options?: { cause?: unknown },
  ) {
    const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join("\n");
    super(code, `relayer config ${source} refused:\n${lines}`, { source, issues }, options);
  }
}

export interface LoadConfigOptions {
  /** Config file; defaults to `$CCGP_CONFIG`. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  /** Check that keystore and TLS files exist (default true). */
  checkFiles?: boolean;
}

const TYPE_NAMES: Record<string, string> = {
  int: "a whole number",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  object: "an object",
  array: "a list",
};

function typeOf(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

/** Messages for issues whose check gave none: they say what is expected, in the config's own words. */
const errorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "required";
      if (issue.expected === "int" && typeof issue.input === "number") return "expected a whole number";
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${typeOf(issue.input)}`;
    case "too_small":
      return issue.origin === "number" ? `expected at least ${issue.minimum}` : undefined;
    case "too_big":
      return issue.origin === "number" ? `expected at most ${issue.maximum}` : undefined;
    case "invalid_union":
      if ("options" in issue && Array.isArray(issue.options))
        return `expected one of ${issue.options.map((o) => JSON.stringify(o)).join(", ")}`;
      return undefined;
    case "invalid_key":
      return `invalid name: ${issue.issues.map((i) => i.message).join("; ")}`;
    default:
      return undefined;
  }
};

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === "number" ? `${acc}[${key}]` : `${acc}.${String(key)}`),
    "config",
  );
}

function zodIssues(error: z.ZodError, fromEnv: Map<string, string>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) issues.push({ path: formatPath([...issue.path, key]), message: "unknown field" });
      continue;
    }
    const envName = fromEnv.get(issue.path.map(String).join("."));
    const suffix = envName === undefined ? "" : ` (from ${envName})`;
    issues.push({ path: formatPath(issue.path), message: issue.message + suffix });
  }
  return issues;
}

/** Relative file paths in the config are relative to the config file, not to the working directory. */
function resolvePaths(config: RelayerConfig, baseDir: string): RelayerConfig {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const key = <K extends RelayerConfig["keys"]["service"]>(k: K): K =>
    k.kind === "keystore" ? { ...k, path: abs(k.path) } : k;
  return {
    ...config,
    keys: { service: key(config.keys.service), business: key(config.keys.business) },
    server: {
      ...config.server,
      tls: { cert: abs(config.server.tls.cert), key: abs(config.server.tls.key), ca: abs(config.server.tls.ca) },
    },
    store: { path: abs(config.store.path) },
    ...(config.auditor ? { auditor: { ...config.auditor, db: abs(config.auditor.db) } } : {}),
    apps: Object.fromEntries(Object.entries(config.apps).map(([name, app]) => [name, { ...app, key: key(app.key) }])),
  };
}

function crossFieldIssues(config: RelayerConfig, checkFiles: boolean): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const files: Array<[string, string]> = [
    ["config.server.tls.cert", config.server.tls.cert],
    ["config.server.tls.key", config.server.tls.key],
    ["config.server.tls.ca", config.server.tls.ca],
  ];
  for (const role of ["service", "business"] as const) {
    const source = config.keys[role];
    if (source.kind === "keystore") files.push([`config.keys.${role}.path`, source.path]);
  }
  for (const [name, app] of Object.entries(config.apps))
    if (app.key.kind === "keystore") files.push([`config.apps.${name}.key.path`, app.key.path]);
  if (checkFiles)
    for (const [path, file] of files) if (!existsSync(file)) issues.push({ path, message: `file not found: ${file}` });
  if (config.metrics.enabled && config.metrics.port === config.server.port)
    issues.push({ path: "config.metrics.port", message: `same port as config.server.port (${config.server.port})` });
  if (config.intake.enabled && config.intake.port === config.server.port)
    issues.push({ path: "config.intake.port", message: `same port as config.server.port (${config.server.port})` });
  if (config.intake.enabled && config.metrics.enabled && config.intake.port === config.metrics.port)
    issues.push({ path: "config.intake.port", message: `same port as config.metrics.port (${config.metrics.port})` });
  if (config.auditor !== undefined && !config.metrics.enabled)
    issues.push({
      path: "config.auditor",
      message: "the auditor API is served on the ops listener: set config.metrics.enabled",
    });
  if (config.auditor !== undefined && config.auditor.db === config.store.path)
    issues.push({ path: "config.auditor.db", message: "must not be the relayer's store (config.store.path)" });
  return issues;
}

/**
 * Reads the config file at `path` (absolute) as a JSON object: refused as not found, not JSON or not an object. Every
 * process that takes a config file reads it through here.
 */
export function readConfigJson(path: string): Record<string, unknown> {
  if (!existsSync(path))
    throw new ConfigError("CONFIG_NOT_FOUND", path, [{ path: "config", message: `file not found: ${path}` }]);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    const message = `not valid JSON: ${(err as Error).message}`;
    throw new ConfigError("CONFIG_NOT_JSON", path, [{ path: "config", message }], { cause: err });
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new ConfigError("CONFIG_INVALID", path, [{ path: "config", message: "expected a JSON object" }]);
  return raw as Record<string, unknown>;
}

/**
 * Validates a raw config object (already read, env not yet applied). Throws a `ConfigError` naming every
 * bad field; refuses any key material before looking at anything else.
 */
export function parseConfig(
  raw: Record<string, unknown>,
  options: { source?: string; baseDir?: string; env?: NodeJS.ProcessEnv; checkFiles?: boolean } = {},
): RelayerConfig {
  const source = options.source ?? "(inline)";
  const copy = structuredClone(raw);
  const fromEnv = applyEnvOverrides(copy, options.env ?? process.env);
  const secrets = findSecrets(copy);
  if (secrets.length > 0) throw new ConfigError("CONFIG_INVALID", source, secrets);
  const parsed = configSchema.safeParse(copy, { error: errorMap });
  if (!parsed.success) throw new ConfigError("CONFIG_INVALID", source, zodIssues(parsed.error, fromEnv));
  const config = resolvePaths(parsed.data, options.baseDir ?? process.cwd());
  const issues = crossFieldIssues(config, options.checkFiles ?? true);
  if (issues.length > 0) throw new ConfigError("CONFIG_INVALID", source, issues);
  return config;
}

/** Reads, overrides from `CCGP_*` variables, and validates the relayer config; refuses it naming the bad field. */
export function loadConfig(options: LoadConfigOptions = {}): RelayerConfig {
  const env = options.env ?? process.env;
  const path = options.path ?? env.CCGP_CONFIG;
  if (path === undefined || path === "")
    throw new ConfigError("CONFIG_MISSING", "(none)", [
      { path: "config", message: "no config file given (pass a path or set CCGP_CONFIG)" },
    ]);
  const absolute = resolve(path);
  return parseConfig(readConfigJson(absolute), {
    source: absolute,
    baseDir: dirname(absolute),
    env,
    checkFiles: options.checkFiles,
  });
}
