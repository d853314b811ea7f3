/**
 * The Audit Office's independent verifier in the local consortium: its config (its own key, the governance chain,
 * its own RPC endpoint for each sub-chain) and its process (`relayer/src/verifier/main.ts`), started and watched like
 * a relayer. Neither business institution holds its key.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { builtProcess } from "../../build";

const REPO_ROOT = resolve(__dirname, "..", "..", "..");

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

export interface VerifierProcess {
  pid: number;
  logFile: string;
  healthUrl: string;
  exited: Promise<number | string>;
  stop(graceMs?: number): Promise<void>;
}

/** Starts the verifier process (from the build in dist/, built first if it is not current), its output appended to `logFile`. */
export function spawnVerifier(
  configPath: string,
  logFile: string,
  env: NodeJS.ProcessEnv,
  healthPort: number,
): VerifierProcess {
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, "a");
  const child = spawn(process.execPath, [...builtProcess("verifier"), "--config", configPath], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | string>((r) =>
    child.once("exit", (code, signal) => r(code ?? signal ?? "unknown")),
  );
  return {
    pid: child.pid!,
    logFile,
    healthUrl: `http://127.0.0.1:${healthPort}/health`,
    exited,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves once `/health` answers 200; rejects (with the log's last lines) if the process exits or times out. */
export async function waitVerifierHealthy(p: VerifierProcess, timeoutMs = 180_000): Promise<void> {
  let gone: number | string | undefined;
  void p.exited.then((c) => (gone = c));
  const deadline = Date.now() + timeoutMs;
  const tail = () => {
    try {
      return readFileSync(p.logFile, "utf8").trimEnd().split("\n").slice(-20).join("\n");
    } catch {
      return "";
    }
  };
  for (;;) {
    if (gone !== undefined)
      throw new Error(`the verifier exited (${gone}) before it was healthy; ${p.logFile}:\n${tail()}`);
    try {
      if ((await fetch(p.healthUrl, { signal: AbortSignal.timeout(2_000) })).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(
        `the verifier is not healthy after ${timeoutMs / 1000} s (${p.healthUrl}); ${p.logFile}:\n${tail()}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}
