import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../../relayer/src/config/load";

/** A temp directory holding placeholder keystore and TLS files, so config file checks pass. */
export function configDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ccgp-config-"));
  for (const file of ["service.json", "business.json", "node.crt", "node.key", "ca.crt"])
    writeFileSync(join(dir, file), "placeholder\n");
  return dir;
}

const address = (n: number): string => `0x${n.toString(16).padStart(40, "0")}`;

/** A complete, valid raw config (relative paths resolve against the config file's directory). */
export function validRawConfig(): Record<string, unknown> {
  return {
    institutionId: 3,
    governance: {
      rpcUrl: "http://127.0.0.1:8545",
      chainId: 31337,
      confirmations: 1,
      contracts: {
        membership: address(1),
        voting: address(2),
        registries: {
          services: address(3),
          subChains: address(4),
          applications: address(5),
          businessContracts: address(6),
          pipes: address(7),
        },
        ledger: address(8),
      },
    },
    chains: {
      sub_a: {
        kind: "evm",
        rpcUrl: "http://127.0.0.1:9545",
        chainId: 1001,
        gateway: address(9),
        confirmations: 3,
        startBlock: 10,
      },
    },
    keys: {
      service: { kind: "keystore", path: "service.json", passwordEnv: "CCGP_SERVICE_KEY_PASSWORD" },
      business: { kind: "keystore", path: "business.json", passwordEnv: "CCGP_BUSINESS_KEY_PASSWORD" },
    },
    server: { host: "127.0.0.1", port: 8443, tls: { cert: "node.crt", key: "node.key", ca: "ca.crt" } },
    limits: {
      perPipe: { ratePerSecond: 50, burst: 100 },
      perApp: { ratePerSecond: 20, burst: 40 },
      maxPayloadBytes: 65536,
      maxQueue: 1000,
    },
    store: { path: "state/relayer.sqlite" },
    log: { level: "debug" },
    metrics: { enabled: true, host: "127.0.0.1", port: 9464 },
  };
}

export function writeConfig(dir: string, raw: unknown, name = "relayer.json"): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(raw, null, 2));
  return path;
}

/** The issues (`<path>: <message>`) `parse` refuses `raw` with; fails the test when it accepts it. */
export function refusalOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error("the config was accepted");
}

/** A process's `main` run with a bad config: its exit code and what it wrote to stderr. */
export async function exitOnBadConfig(main: () => Promise<number>): Promise<{ code: number; stderr: string }> {
  let stderr = "";
  const write = process.stderr.write;
  process.stderr.write = ((text: string) => ((stderr += text), true)) as typeof write;
  try {
    return { code: await main(), stderr };
  } finally {
    process.stderr.write = write;
  }
}
