/**
 * The standalone attester's config: its own key, its own governance RPC endpoint and the governance contracts it
 * checks requests against, and where it listens. Refused at start naming each bad field; key material is never
 * accepted in the file.
 */
import { z } from "zod";
import { address, host, httpUrl, port } from "../config/primitives";
import { keySourceSchema } from "../config/schema";
import { loadRoleConfig, parseRoleConfig, roleLogSchema, type RoleConfigOptions } from "../config/role";

export const attesterConfigSchema = z.strictObject({
  /** The attester's institution (stamped on its log lines). */
  institutionId: z.int().min(1),
  governance: z.strictObject({
    rpcUrl: httpUrl,
    /** First block to look for opened packets in (the ledger's deployment block). */
    fromBlock: z.int().min(0).default(0),
    /**
     * How often it polls for new opens to sign ahead when the node pushes no heads (with pushed heads: how often the
     * pushed chain is checked against the node, at least every second).
     */
    followIntervalMs: z.int().min(10).max(60_000).default(100),
    contracts: z.strictObject({ ledger: address, pipes: address, chains: address, attesters: address }),
  }),
  /** The attester key (one per institution; a member of the voted set to count on the gateways). */
  key: keySourceSchema,
  /**
   * Where it serves `POST /v1/attestations`, `POST /v1/attester-set` and `GET /health` (plain HTTP: put it behind the
   * institution's TLS front when it leaves the machine). Port 0: any free port (logged at start).
   */
  listen: z.strictObject({ host: host.default("127.0.0.1"), port: z.union([z.literal(0), port]) }),
  log: roleLogSchema,
});

export type AttesterConfig = z.output<typeof attesterConfigSchema>;

/** Validates a raw attester config; key paths are resolved against `baseDir` (the config's own directory). */
export function parseAttesterConfig(raw: unknown, options: RoleConfigOptions = {}): AttesterConfig {
  return parseRoleConfig(attesterConfigSchema, raw, options);
}

export function loadAttesterConfig(path: string): AttesterConfig {
  return loadRoleConfig(path, parseAttesterConfig);
}
