/**
 * The independent verifier's config: the governance chain it endorses on, its own key, and its own RPC endpoint for
 * every sub-chain it checks (the same `chains` entries as a relayer's). Refused at start naming each bad field.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { chainConfigSchema } from "../config/chains";
import { ConfigError, type ConfigIssue } from "../config/load";
import { address, chainId, confirmations, host, httpUrl, port } from "../config/primitives";
import { keySourceSchema } from "../config/schema";
import { findSecrets } from "../config/secrets";
import { LOG_FORMATS, LOG_LEVELS } from "../../../lib/infra/log";

export const verifierConfigSchema = z.strictObject({
  /** The verifier's institution (stamped on its log lines). */
  institutionId: z.int().min(1),
  governance: z.strictObject({
    rpcUrl: httpUrl,
    chainId,
    confirmations: confirmations.default(1),
    pollIntervalMs: z.int().min(10).max(600_000).default(1_000),
    /** First block to look for executed transactions in (the ledger's deployment block). */
    fromBlock: z.int().min(0).default(0),
    contracts: z.strictObject({ ledger: address, chains: address }),
  }),
  /** The verifier account's key (a verifier on the ledger, of an institution that is not a party). */
  key: keySourceSchema,
  /** Every sub-chain whose results it checks, through its own node; matched to the registry by chain id. */
  chains: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, "expected letters, digits, _ or -"), chainConfigSchema),
  /** `GET /health` (plain HTTP: keep it on a private interface). */
  health: z.strictObject({ host: host.default("127.0.0.1"), port }).optional(),
  log: z
    .strictObject({ level: z.enum(LOG_LEVELS).default("info"), format: z.enum(LOG_FORMATS).default("auto") })
    .default({ level: "info", format: "auto" }),
});

export type VerifierConfig = z.output<typeof verifierConfigSchema>;

const pathOf = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((acc, k) => (typeof k === "number" ? `${acc}[${k}]` : `${acc}.${String(k)}`), "config");

/** Validates a raw verifier config; key paths are resolved against `baseDir` (the config's own directory). */
export function parseVerifierConfig(raw: unknown, options: { source?: string; baseDir?: string } = {}): VerifierConfig {
  const source = options.source ?? "(inline)";
  const secrets = typeof raw === "object" && raw !== null ? findSecrets(raw as Record<string, unknown>) : [];
  if (secrets.length > 0) throw new ConfigError("CONFIG_INVALID", source, secrets);
  const parsed = verifierConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues: ConfigIssue[] = parsed.error.issues.flatMap((i) =>
      i.code === "unrecognized_keys"
        ? i.keys.map((k) => ({ path: pathOf([...i.path, k]), message: "unknown field" }))
        : [{ path: pathOf(i.path), message: i.message }],
    );
    throw new ConfigError("CONFIG_INVALID", source, issues);
  }
  const config = parsed.data;
  if (Object.keys(config.chains).length === 0)
    throw new ConfigError("CONFIG_INVALID", source, [
      { path: "config.chains", message: "expected at least one sub-chain" },
    ]);
  if (config.key.kind === "keystore") {
    const path = isAbsolute(config.key.path)
      ? config.key.path
      : resolve(options.baseDir ?? process.cwd(), config.key.path);
    if (!existsSync(path))
      throw new ConfigError("CONFIG_INVALID", source, [
        { path: "config.key.path", message: `file not found: ${path}` },
      ]);
    config.key = { ...config.key, path };
  }
  return config;
}

export function loadVerifierConfig(path: string): VerifierConfig {
  const absolute = resolve(path);
  if (!existsSync(absolute))
    throw new ConfigError("CONFIG_NOT_FOUND", absolute, [{ path: "config", message: `file not found: ${absolute}` }]);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(absolute, "utf8"));
  } catch (err) {
    throw new ConfigError(
      "CONFIG_NOT_JSON",
      absolute,
      [{ path: "config", message: `not valid JSON: ${(err as Error).message}` }],
      { cause: err },
    );
  }
  return parseVerifierConfig(raw, { source: absolute, baseDir: dirname(absolute) });
}
