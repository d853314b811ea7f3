/**
 * The independent verifier's config: the governance chain it endorses on, its own key, and its own RPC endpoint for
 * every sub-chain it checks (the same `chains` entries as a relayer's). Refused at start naming each bad field.
 */
import { z } from "zod";
import { chainConfigSchema } from "../config/chains";
import { address, chainId, confirmations, host, httpUrl, port } from "../config/primitives";
import { keySourceSchema } from "../config/schema";
import { loadRoleConfig, parseRoleConfig, roleLogSchema, type RoleConfigOptions } from "../config/role";

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
  log: roleLogSchema,
});

export type VerifierConfig = z.output<typeof verifierConfigSchema>;

/** Validates a raw verifier config; key paths are resolved against `baseDir` (the config's own directory). */
export function parseVerifierConfig(raw: unknown, options: RoleConfigOptions = {}): VerifierConfig {
  return parseRoleConfig(verifierConfigSchema, raw, options, (config) =>
    Object.keys(config.chains).length === 0
      ? [{ path: "config.chains", message: "expected at least one sub-chain" }]
      : [],
  );
}

export function loadVerifierConfig(path: string): VerifierConfig {
  return loadRoleConfig(path, parseVerifierConfig);
}
