import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DeployError } from "../../../lib/deploy/governance";
import { builtProcess } from "../../build";
import { stopper } from "./role-process";
import type { BusinessSide, LocalConsortium } from "../local-consortium";

/** The repository root (this file is scripts/lib/local/relayers.ts). */
export const REPO_ROOT = resolve(__dirname, "..", "..", "..");

export interface RelayerProcess {
  side: BusinessSide;
  pid: number;
  logFile: string;
  healthUrl: string;
  metricsUrl: string;
  intakeUrl: string;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  exited: Promise<number | string>;
  /** SIGTERM (the relayer stops cleanly through its AbortController), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const lastLines = (file: string, n = 20): string => {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-n).join("\n");
  } catch {
    return "";
  }
};

/**
 * Starts one relayer process for a business institution (`relayer/src/main.ts --config <file>`, from the build in
 * dist/, built first if it is not current), its output appended to `<runDir>/logs/relayer-<slug>.log`. Its health
 * counts its peers' heartbeats, so wait for all of them together: {@link startRelayers}.
 */
export function spawnRelayer(
  c: LocalConsortium,
  side: BusinessSide,
  env: NodeJS.ProcessEnv = {},
  /** The process's `node` arguments (a test's patched relayer); default the relayer's build. */
  program: readonly string[] = builtProcess("relayer"),
): RelayerProcess {
  const logDir = join(c.runDir, "logs");
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `relayer-${side.slug}.log`);
  const fd = openSync(logFile, "a");
  // CCGP_RELAYER_NODE_ARGS: extra node flags for profiling a relayer (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
  const nodeArgs = (process.env.CCGP_RELAYER_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
  // After the program's own flags (they override them), before its entry.
  const args = [...program.slice(0, -1), ...nodeArgs, ...program.slice(-1), "--config", side.configPath];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, [c.passwordEnv]: c.password },
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | string>((r) =>
    child.once("exit", (code, signal) => r(code ?? signal ?? "unknown")),
  );
  const ops = `http://127.0.0.1:${side.ports.ops}`;
  return {
    side,
    pid: child.pid!,
    logFile,
    healthUrl: `${ops}/health`,
    metricsUrl: `${ops}/metrics`,
    intakeUrl: `http://127.0.0.1:${side.ports.app}`,
    exited,
    stop: stopper(child, exited),
  };
}

/**
 * Starts the relayer of each given side and waits until every one's `/health` answers 200 (a relayer is healthy
 * once it sees its peers' heartbeats). If one exits or stays unhealthy, all are stopped and the error names it,
 * with its last log lines.
 */
export async function startRelayers(
  c: LocalConsortium,
  sides: BusinessSide[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; program?: readonly string[] } = {},
): Promise<RelayerProcess[]> {
  const procs = sides.map((side) => spawnRelayer(c, side, opts.env, opts.program));
  const healthy = await Promise.allSettled(procs.map((p) => waitHealthy(p, opts.timeoutMs ?? 180_000)));
  const failed = healthy.find((h) => h.status === "rejected");
  if (failed) {
    await Promise.all(procs.map((p) => p.stop(2_000)));
    throw (failed as PromiseRejectedResult).reason;
  }
  return procs;
}

async function waitHealthy(proc: RelayerProcess, timeoutMs: number): Promise<void> {
  let exit: number | string | undefined;
  void proc.exited.then((code) => (exit = code));
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    if (exit !== undefined)
      throw new DeployError(
        `relayer of ${proc.side.name} exited (${exit}) before it was healthy; ` +
          `${proc.logFile}:\n${lastLines(proc.logFile)}`,
        { logFile: proc.logFile },
      );
    try {
      const res = await fetch(proc.healthUrl, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
      last = `${res.status} ${(await res.text()).slice(0, 300)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new DeployError(
        `relayer of ${proc.side.name} not healthy after ${timeoutMs} ms (${proc.healthUrl}: ${last}); ` +
          `${proc.logFile}:\n${lastLines(proc.logFile)}`,
        { logFile: proc.logFile },
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}
