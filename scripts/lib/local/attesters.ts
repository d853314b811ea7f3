/**
 * The local attester set, the way an institution runs and registers its attester: the attester process
 * (`dist/attester.js --config <file>`, its config written here), then the real commands (in this process): the
 * attester key publishes its endpoint (`ccgp attesters endpoint`), and `ccgp attesters sync` brings every gateway to
 * the voted set. The gateways are deployed with the set the vote then makes epoch 1, so a fresh consortium reports
 * them in step; a later vote (a rotation) is carried to the gateways by the same command.
 */
import { writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { main } from "../../../relayer/src/cli/main";
import { DeployError } from "../../../lib/deploy/governance";
import { spawnRole, waitRoleHealthy, type RoleProcess } from "./role-process";

export interface AttesterConfigInput {
  institutionId: number;
  governanceRpc: string;
  fromBlock: number;
  contracts: { ledger: string; pipes: string; chains: string; attesters: string };
  keystore: string;
  passwordEnv: string;
  port: number;
  logLevel: string;
}

/** Writes an attester's config (the keystore path relative to the config's directory, as the loader resolves it). */
export function writeAttesterConfig(path: string, input: AttesterConfigInput): void {
  const json = {
    institutionId: input.institutionId,
    governance: { rpcUrl: input.governanceRpc, fromBlock: input.fromBlock, contracts: input.contracts },
    key: { kind: "keystore", path: relative(dirname(path), input.keystore), passwordEnv: input.passwordEnv },
    listen: { host: "127.0.0.1", port: input.port },
    log: { level: input.logLevel, format: "json" },
  };
  writeFileSync(path, JSON.stringify(json, null, 2) + "\n");
}

/** Starts the attester process on `port` and resolves once it has read the ledger (`GET /health` 200). */
export async function startAttesterProcess(
  configPath: string,
  logFile: string,
  env: NodeJS.ProcessEnv,
  port: number,
): Promise<RoleProcess> {
  const p = spawnRole("attester", configPath, logFile, env, `http://127.0.0.1:${port}/health`);
  try {
    await waitRoleHealthy(p, "the attester");
  } catch (error) {
    await p.stop();
    throw error;
  }
  return p;
}

export interface AttestersRun {
  governanceRpc: string;
  /** The folder holding the deployment record. */
  deployments: string;
  passwordEnv: string;
  password: string;
  /** Every sub-chain's node. */
  subchainRpcs: string[];
}

export interface SyncReport {
  epoch: string;
  threshold: number;
  attesters: string[];
  gateways: { subchainId: string; status: "updated" | "in step"; fromEpoch: string; epoch: string }[];
}

async function ccgp(run: AttestersRun, args: string[], keystore: string): Promise<string> {
  let stdout = "";
  let stderr = "";
  const argv = ["node", "ccgp", ...args, "--rpc", run.governanceRpc, "--deployments", run.deployments];
  const code = await main([...argv, "--keystore", keystore, "--json"], {
    env: { ...process.env, [run.passwordEnv]: run.password },
    io: { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) },
  });
  if (code !== 0) throw new DeployError(`ccgp ${args.join(" ")} failed (exit ${code}): ${stderr.trim()}`, { args });
  return stdout;
}

/** The key in `keystore` publishes `url` as where it serves its signatures. */
export async function publishAttesterEndpoint(run: AttestersRun, keystore: string, url: string): Promise<void> {
  await ccgp(run, ["attesters", "endpoint", url], keystore);
}

/** `ccgp attesters sync` over every sub-chain, sent from `keystore`'s account. */
export async function syncAttesters(run: AttestersRun, keystore: string): Promise<SyncReport> {
  const nodes = run.subchainRpcs.flatMap((url) => ["--subchain-rpc", url]);
  return JSON.parse(await ccgp(run, ["attesters", "sync", ...nodes], keystore)) as SyncReport;
}
