/**
 * A process of the local consortium other than a relayer (the independent verifier, the attester): started from the
 * build in dist/ (built first if it is not current) with its config file, its output appended to a log file, and
 * watched through its `GET /health`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { builtProcess } from "../../build";

const REPO_ROOT = resolve(__dirname, "..", "..", "..");

export interface RoleProcess {
  pid: number;
  logFile: string;
  healthUrl: string;
  exited: Promise<number | string>;
  /** SIGTERM (it stops cleanly), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnRole(
  name: "verifier" | "attester",
  configPath: string,
  logFile: string,
  env: NodeJS.ProcessEnv,
  healthUrl: string,
): RoleProcess {
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, "a");
  const child = spawn(process.execPath, [...builtProcess(name), "--config", configPath], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | string>((r) =>
    child.once("exit", (code, signal) => r(code ?? signal ?? "unknown")),
  );
  return { pid: child.pid!, logFile, healthUrl, exited, stop: stopper(child, exited) };
}

/** Stops `child`: SIGTERM (a CCGP process stops cleanly), SIGKILL after `graceMs`; resolves once it exited. */
export const stopper =
  (child: ChildProcess, exited: Promise<unknown>) =>
  async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };

/** Resolves once `/health` answers 200; rejects (with the log's last lines) if the process exits or times out. */
export async function waitRoleHealthy(p: RoleProcess, what: string, timeoutMs = 180_000): Promise<void> {
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
    if (gone !== undefined) throw new Error(`${what} exited (${gone}) before it was healthy; ${p.logFile}:\n${tail()}`);
    try {
      if ((await fetch(p.healthUrl, { signal: AbortSignal.timeout(2_000) })).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`${what} is not healthy after ${timeoutMs / 1000} s (${p.healthUrl}); ${p.logFile}:\n${tail()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
