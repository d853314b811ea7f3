/**
 * The Audit Office's independent verifier in the local consortium: its config (its own key, the governance chain,
 * its own RPC endpoint for each sub-chain) and its process (`relayer/src/verifier/main.ts`), started and watched like
 * a relayer. Neither business institution holds its key.
 */
import { writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { spawnRole, waitRoleHealthy, type RoleProcess } from "./role-process";

export interface VerifierConfigInput {
  institutionId: number;
  governance: {
    url: string;
    chainId: number;
    confirmations: number;
    pollIntervalMs: number;
    ledger: string;
    chains: string;
  };
  keystore: string;
  passwordEnv: string;
  chains: Array<{
    name: string;
    url: string;
    chainId: number;
    gateway: string;
    confirmations: number;
    startBlock: number;
  }>;
  healthPort: number;
  logLevel: string;
}

/** Writes the verifier's config; paths relative to the config's directory, as the loader resolves them. */
export function writeVerifierConfig(path: string, input: VerifierConfigInput): void {
  const g = input.governance;
  const json = {
    institutionId: input.institutionId,
    governance: {
      rpcUrl: g.url,
      chainId: g.chainId,
      confirmations: g.confirmations,
      pollIntervalMs: g.pollIntervalMs,
      contracts: { ledger: g.ledger, chains: g.chains },
    },
    key: { kind: "keystore", path: relative(dirname(path), input.keystore), passwordEnv: input.passwordEnv },
    chains: Object.fromEntries(
      input.chains.map((c) => [
        c.name,
        {
          kind: "evm",
          rpcUrl: c.url,
          chainId: c.chainId,
          gateway: c.gateway,
          confirmations: c.confirmations,
          startBlock: c.startBlock,
          pollIntervalMs: g.pollIntervalMs,
        },
      ]),
    ),
    health: { host: "127.0.0.1", port: input.healthPort },
    log: { level: input.logLevel, format: "json" },
  };
  writeFileSync(path, JSON.stringify(json, null, 2) + "\n");
}

export type VerifierProcess = RoleProcess;

/** Starts the verifier process (`dist/verifier.js`), its output appended to `logFile`. */
export const spawnVerifier = (
  configPath: string,
  logFile: string,
  env: NodeJS.ProcessEnv,
  healthPort: number,
): VerifierProcess => spawnRole("verifier", configPath, logFile, env, `http://127.0.0.1:${healthPort}/health`);

/** Resolves once `/health` answers 200; rejects (with the log's last lines) if the process exits or times out. */
export const waitVerifierHealthy = (p: VerifierProcess, timeoutMs?: number): Promise<void> =>
  waitRoleHealthy(p, "the verifier", timeoutMs);
