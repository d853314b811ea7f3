import { z } from "zod";
import { chainConfigSchema } from "../chains/kinds";
import { LOG_LEVELS } from "../log";
import { address, chainId, confirmations, envVarName, filePath, host, httpUrl, port } from "./primitives";

/**
 * Where a signing key comes from. There is deliberately no variant that holds key material: keys live in
 * an encrypted keystore (password taken from an environment variable) or behind an external signer.
 */
export const keySourceSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("keystore"),
    /** Web3 Secret Storage v3 JSON file. */
    path: filePath,
    /** Name of the environment variable holding the keystore password (never the password itself). */
    passwordEnv: envVarName,
  }),
  z.strictObject({
    kind: z.literal("external"),
    /** The address the external signer (KMS/HSM) signs for; every signature is checked against it. */
    address,
    /** HTTP(S) endpoint of the digest-signing service (see keys/external.ts for the protocol). */
    endpoint: httpUrl,
  }),
]);

const rateSchema = z.strictObject({
  /** Sustained rate, in packets per second. */
  ratePerSecond: z.number().positive("expected a rate above 0").max(1_000_000),
  /** Largest burst admitted at once (bucket capacity). */
  burst: z.int().min(1).max(1_000_000),
});

const chainNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,31}$/, "chain names are lowercase letters, digits and _, starting with a letter");

export const configSchema = z.strictObject({
  /** This institution's id on the governance chain (Membership `uint32` id). */
  institutionId: z.int().min(0).max(0xffff_ffff),
  governance: z.strictObject({
    rpcUrl: httpUrl,
    chainId,
    confirmations: confirmations.default(2),
    contracts: z.strictObject({
      membership: address,
      voting: address,
      registries: z.strictObject({
        services: address,
        subChains: address,
        applications: address,
        businessContracts: address,
        pipes: address,
      }),
      ledger: address,
      credit: address.optional(),
    }),
  }),
  /** The sub-chains this relayer fronts, by name; each entry's `kind` picks the chain plugin. */
  chains: z
    .record(chainNameSchema, chainConfigSchema)
    .refine((chains) => Object.keys(chains).length > 0, "expected at least one sub-chain"),
  keys: z.strictObject({
    /** The relayer service's key: sends sub-chain and governance-chain transactions. */
    service: keySourceSchema,
    /** The institution's business account: countersigns AMDP packets (stage 2). */
    business: keySourceSchema,
  }),
  server: z.strictObject({
    host: host.default("0.0.0.0"),
    port,
    tls: z.strictObject({
      cert: filePath,
      key: filePath,
      /** The consortium CA that signed every peer's certificate. */
      ca: filePath,
    }),
  }),
  limits: z.strictObject({
    perPipe: rateSchema,
    perApp: rateSchema,
    maxPayloadBytes: z
      .int()
      .min(1)
      .max(16 * 1024 * 1024)
      .default(1024 * 1024),
    maxQueue: z.int().min(1).max(1_000_000).default(10_000),
  }),
  store: z.strictObject({ path: filePath }),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default("info") }).default({ level: "info" }),
  metrics: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Plain-HTTP listener for `/health` and `/metrics`: keep it on a private interface. */
      host: host.default("127.0.0.1"),
      port: port.default(9464),
      prefix: z
        .string()
        .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "expected a Prometheus metric name prefix")
        .default("ccgp_"),
    })
    .default({ enabled: true, host: "127.0.0.1", port: 9464, prefix: "ccgp_" }),
});

export type RelayerConfig = z.output<typeof configSchema>;
export type KeySource = z.output<typeof keySourceSchema>;
export type RateConfig = z.output<typeof rateSchema>;
