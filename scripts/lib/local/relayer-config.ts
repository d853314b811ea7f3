import { writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { parseConfig, type RelayerConfig } from "../../../relayer/src/config";

/** What one business institution's relayer config is made of. */
export interface RelayerConfigInput {
  institutionId: number;
  governance: {
    url: string;
    chainId: number;
    confirmations: number;
    contracts: {
      membership: string;
      voting: string;
      services: string;
      chains: string;
      pipes: string;
      ledger: string;
      credit: string;
    };
  };
  /** Name in the config (`sub_a`), and the sub-chain the relayer fronts. */
  chain: { name: string; url: string; chainId: number; gateway: string; confirmations: number; startBlock: number };
  keys: { service: string; business: string; passwordEnv: string };
  server: { port: number; cert: string; key: string; ca: string };
  metricsPort: number;
  /** The app intake (stage 1, plain HTTP on 127.0.0.1). */
  intakePort: number;
  /** The app key this relayer holds for the chain-initiated mode, and the contracts allowed to start requests. */
  app: { name: string; keystore: string; contracts: string[] };
  /** Seconds between service heartbeats. */
  heartbeatSeconds: number;
  /** How often the relayer polls its sub-chain and looks for due work. */
  pollIntervalMs: number;
  storePath: string;
  logLevel: string;
  /** Packets per second, per pipe and per app. */
  ratePerSecond: number;
  /** The auditor API on the ops listener: its index file and other sub-chains' RPCs for receipt checks. */
  auditor?: { db: string; subchains: Array<{ chainId: number; rpcUrl: string }> };
}

/**
 * The JSON of one relayer config (the schema in `relayer/src/config`). File paths are written relative to the
 * config's own directory, which is how the loader resolves them, so a run dir can be moved as a whole.
 */
export function relayerConfigJson(input: RelayerConfigInput, configPath: string): Record<string, unknown> {
  const rel = (p: string): string => relative(dirname(configPath), p) || ".";
  const g = input.governance;
  const keystore = (path: string) => ({ kind: "keystore", path: rel(path), passwordEnv: input.keys.passwordEnv });
  const rate = { ratePerSecond: input.ratePerSecond, burst: input.ratePerSecond * 2 };
  return {
    institutionId: input.institutionId,
    governance: {
      rpcUrl: g.url,
      chainId: g.chainId,
      confirmations: g.confirmations,
      pollIntervalMs: input.pollIntervalMs,
      contracts: {
        membership: g.contracts.membership,
        voting: g.contracts.voting,
        registries: {
          services: g.contracts.services,
          subChains: g.contracts.chains,
          applications: g.contracts.chains,
          businessContracts: g.contracts.chains,
          pipes: g.contracts.pipes,
        },
        ledger: g.contracts.ledger,
        credit: g.contracts.credit,
      },
    },
    chains: {
      [input.chain.name]: {
        kind: "evm",
        rpcUrl: input.chain.url,
        chainId: input.chain.chainId,
        gateway: input.chain.gateway,
        confirmations: input.chain.confirmations,
        startBlock: input.chain.startBlock,
        pollIntervalMs: input.pollIntervalMs,
      },
    },
    keys: { service: keystore(input.keys.service), business: keystore(input.keys.business) },
    server: {
      host: "127.0.0.1",
      port: input.server.port,
      tls: { cert: rel(input.server.cert), key: rel(input.server.key), ca: rel(input.server.ca) },
    },
    limits: { perPipe: rate, perApp: rate, maxPayloadBytes: 64 * 1024, maxQueue: 20_000 },
    store: { path: rel(input.storePath) },
    intake: { enabled: true, host: "127.0.0.1", port: input.intakePort },
    apps: { [input.app.name]: { key: keystore(input.app.keystore), contracts: input.app.contracts } },
    runtime: { heartbeatSeconds: input.heartbeatSeconds, pollIntervalMs: input.pollIntervalMs },
    log: { level: input.logLevel },
    metrics: { enabled: true, host: "127.0.0.1", port: input.metricsPort, prefix: "ccgp_" },
    ...(input.auditor ? { auditor: { db: rel(input.auditor.db), subchains: input.auditor.subchains } } : {}),
  };
}

/**
 * Validates the config with the relayer's own parser (as the relayer will read it, without environment
 * overrides) and writes it. A config the relayer would refuse is never written.
 */
export function writeRelayerConfig(path: string, json: Record<string, unknown>): RelayerConfig {
  const config = parseConfig(json, { source: path, baseDir: dirname(path), env: {}, checkFiles: true });
  writeFileSync(path, JSON.stringify(json, null, 2) + "\n");
  return config;
}
