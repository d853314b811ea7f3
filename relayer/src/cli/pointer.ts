/**
 * The pointer to the running local consortium: `npm start` writes it, so `npx ccgp …` in a second terminal finds
 * the governance chain, the deployment record, the keystores and the supervisor without a flag. It holds no secret:
 * only when the run uses the published local default password is that password named in it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** Where the pointer lives: `$CCGP_CURRENT`, else `.ccgp/current.json` in the repository. */
export function pointerPath(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.CCGP_CURRENT ?? join(__dirname, "..", "..", "..", ".ccgp", "current.json"));
}

export interface LocalChainEntry {
  name: string;
  url: string;
  chainId: number;
  pid: number;
}

export interface LocalRelayerEntry {
  name: string;
  slug: string;
  pid: number;
  health: string;
  intake: string;
  log: string;
  config: string;
}

export interface LocalPointer {
  /** The supervising `npm start` process. */
  pid: number;
  runDir: string;
  manifest: string;
  rpc: string;
  deployments: string;
  keys: string;
  passwordEnv: string;
  /** The password of the keystores when it is the published local default; absent when the user chose one. */
  localPassword?: string;
  auditorApi: string | null;
  /** The supervisor's control endpoint (`POST /restart/<name>`), 127.0.0.1 only. */
  control: string;
  chains: LocalChainEntry[];
  relayers: LocalRelayerEntry[];
}

export function writePointer(pointer: LocalPointer, env: NodeJS.ProcessEnv = process.env): string {
  const path = pointerPath(env);
  mkdirSync(dirname(path), { recursive: true });
  // Written aside and renamed: a reader never sees half a file.
  writeFileSync(`${path}.tmp`, JSON.stringify(pointer, null, 2) + "\n");
  renameSync(`${path}.tmp`, path);
  return path;
}

/** Removes the pointer if it is `pid`'s (a newer run's pointer is left alone). */
export function removePointer(pid: number, env: NodeJS.ProcessEnv = process.env): void {
  const found = readPointerFile(pointerPath(env));
  if (found?.pid === pid) rmSync(pointerPath(env), { force: true });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

function readPointerFile(path: string): LocalPointer | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as LocalPointer;
  } catch {
    return undefined;
  }
}

/** The running consortium's pointer; undefined when there is none or its `npm start` is gone. */
export function readPointer(env: NodeJS.ProcessEnv = process.env): LocalPointer | undefined {
  const found = readPointerFile(pointerPath(env));
  return found && alive(found.pid) ? found : undefined;
}
