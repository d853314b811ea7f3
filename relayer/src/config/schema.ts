import { z } from "zod";
import { chainConfigSchema } from "./chains";
import { LOG_FORMATS, LOG_LEVELS } from "../../../lib/infra/log";
import { address, chainId, confirmations, envVarName, filePath, host, httpUrl, port, wsUrl } from "./primitives";

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

/**
 * An application key the relayer holds for the chain-initiated mode: it signs stage 1 for requests that the app's
 * registered business contracts start on the sub-chain. The app is found on chain from the key's address
 * (`ChainRegistry.keyRecord`), so no id is written here.
 */
const appKeySchema = z.strictObject({
  key: keySourceSchema,
  /**
   * CNS names of the business contracts allowed to start requests for this app (default: any the institution registered
   * on the app's sub-chain).
   */
  contracts: z.array(z.string().min(1, "expected a contract name")).optional(),
});

/** Tuning of the transaction driver; every field has a default. */
const runtimeSchema = z.strictObject({
  /** Seconds between `ServiceRegistry.heartbeat` calls (0: none). */
  heartbeatSeconds: z.int().min(0).max(86_400).default(30),
  /** Deadline given to chain-initiated transactions, at most the pipe's timeout. */
  txDeadlineSeconds: z
    .int()
    .min(10)
    .max(7 * 86_400)
    .default(600),
  retry: z
    .strictObject({
      /**
       * Failed attempts of a work item that belongs to no transaction before it is given up (a transaction's work is
       * bounded by time).
       */
      maxAttempts: z.int().min(1).max(1_000).default(8),
      /**
       * How long transient faults are retried: a compensation or a ledger write from its creation, a step, result or
       * endorsement past the packet's deadline (delivery and opening stop at the deadline itself).
       */
      windowSeconds: z
        .int()
        .min(1)
        .max(7 * 86_400)
        .default(600),
      baseDelayMs: z.int().min(1).max(3_600_000).default(500),
      maxDelayMs: z.int().min(1).max(3_600_000).default(30_000),
    })
    .prefault({}),
  /** Work items run at once. */
  concurrency: z.int().min(1).max(256).default(32),
  /** How often the driver looks for due work and checks unfinished transactions on the ledger. */
  pollIntervalMs: z.int().min(10).max(600_000).default(500),
  /** Endorse executed transactions of this relayer's pipes when its service signer is a verifier. */
  verify: z.boolean().default(true),
  /**
   * Pipes whose app requests are two-phase unless a request names its `mode` (the app binds the mode with its steps:
   * a two-phase write has operation 2 in the plan its txId commits to).
   */
  twoPhasePipes: z
    .array(
      z
        .string()
        .regex(/^0x[0-9a-fA-F]{64}$/, "expected a pipe id (32 bytes of hex)")
        .transform((p) => p.toLowerCase()),
    )
    .default([]),
});

/**
 * The auditor-only query API, mounted on the ops listener under `/auditor`: every request must carry an
 * active auditor account's EIP-712 signature. The relayer keeps its own index of the governance chain's events.
 */
const auditorSchema = z.strictObject({
  /** The SQLite index of governance events (created when missing). */
  db: filePath,
  /** Follow the governance chain into `db` from this process (false: another process indexes it). */
  index: z.boolean().default(true),
  /** First governance block to index on a fresh index (the deployment block). */
  fromBlock: z.int().min(0).default(0),
  /** Accepted distance between a signed request's timestamp and this relayer's clock, in seconds. */
  windowSeconds: z.int().min(1).max(3_600).default(60),
  /** Other sub-chains' RPCs for receipt checks and reconciliation; the relayer's own chains are always included. */
  subchains: z.array(z.strictObject({ chainId, rpcUrl: httpUrl })).default([]),
});

const chainNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,31}$/, "chain names are lowercase letters, digits and _, starting with a letter");

export const configSchema = z.strictObject({
  /** This institution's id on the governance chain (Membership `uint32` id). */
  institutionId: z.int().min(0).max(0xffff_ffff),
  governance: z.strictObject({
    rpcUrl: httpUrl,
    /** New heads pushed over WebSocket: as `chains.<name>.wsUrl`. */
    wsUrl: wsUrl.or(z.literal(false)).optional(),
    chainId,
    confirmations: confirmations.default(2),
    /** How often the relayer polls the governance chain for new blocks and for its transactions' receipts. */
    pollIntervalMs: z.int().min(10).max(600_000).default(200),
    /** Ledger writes by `eth_sendRawTransactionSync` where the node has it (default; see chains.<name>.sendSync). */
    sendSync: z.boolean().optional(),
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
    /** The largest read value carried between relayers and answered to an app (`RESULT_TOO_LARGE` above). */
    maxResultBytes: z
      .int()
      .min(32)
      .max(16 * 1024 * 1024)
      .default(64 * 1024),
  }),
  store: z.strictObject({ path: filePath }),
  /** The app intake (stage 1): plain HTTP `POST /v1/requests`, `GET /v1/transactions/:txId`; keep it private. */
  intake: z
    .strictObject({
      enabled: z.boolean().default(true),
      host: host.default("127.0.0.1"),
      port: port.default(8480),
    })
    .prefault({}),
  /** App keys held for the chain-initiated mode, by a local name. */
  apps: z.record(chainNameSchema, appKeySchema).default({}),
  runtime: runtimeSchema.prefault({}),
  /** Absent: no auditor API. */
  auditor: auditorSchema.optional(),
  /**
   * How this relayer collects attestations before it runs a step on its gateway (the gateway needs `threshold` of
   * its current set). Each attester is asked at the endpoint its key published in the service registry, in
   * parallel, `retries` more times on a fault, `timeoutMs` each time; a registry entry is read again after
   * `endpointTtlMs`, or at once after its endpoint failed.
   */
  attesters: z
    .strictObject({
      timeoutMs: z.int().min(100).max(60_000).default(5_000),
      retries: z.int().min(0).max(10).default(2),
      endpointTtlMs: z.int().min(0).max(3_600_000).default(30_000),
    })
    .prefault({}),
  log: z
    .strictObject({ level: z.enum(LOG_LEVELS).default("info"), format: z.enum(LOG_FORMATS).default("auto") })
    .default({ level: "info", format: "auto" }),
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
export type AuditorConfig = z.output<typeof auditorSchema>;
export type RateConfig = z.output<typeof rateSchema>;
