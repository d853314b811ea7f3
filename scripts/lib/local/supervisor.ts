/**
 * What `npm start` started, watched: each chain and relayer's death is reported in one line; `ccgp local restart`
 * asks (over a 127.0.0.1 control endpoint) to start one again, a chain from its state file, a relayer from its
 * store; Ctrl-C stops them all, relayers started by hand against this run's configs included.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join, resolve } from "node:path";
import { startAnvil, exitOf } from "../anvil";
import type { ChainInfo, LocalAttester, LocalConsortium, LocalVerifier } from "../local-consortium";
import { spawnRelayer, type RelayerProcess } from "./relayers";

export type MemberKind = "chain" | "relayer" | "verifier" | "attester";

export interface Member {
  kind: MemberKind;
  name: string;
  /** Other names `ccgp local restart` accepts (`a` for `sub-a`). */
  aliases: string[];
  pid: number;
  /** Where it serves: the chain's URL, the relayer's health URL. */
  url: string;
  log?: string;
}

interface Entry extends Member {
  exited: Promise<number | string>;
  stop(): Promise<void>;
  start(): Promise<{ pid: number; exited: Promise<number | string>; stop(): Promise<void> }>;
  restarting: boolean;
}

const HEALTH_TIMEOUT_MS = 180_000;

async function healthy(url: string, exited: Promise<number | string>, timeoutMs: number): Promise<void> {
  let gone: number | string | undefined;
  void exited.then((c) => (gone = c));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone !== undefined) throw new Error(`exited (${gone}) before it was healthy`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2_000) })).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`not healthy after ${timeoutMs / 1000} s (${url})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export class Supervisor {
  private readonly entries: Entry[] = [];
  private stopping = false;
  private server?: Server;

  constructor(private readonly say: (line: string) => void) {}

  /** Watches a chain; a restart loads its state file (it must have been started with one to keep its state). */
  addChain(info: ChainInfo): void {
    const short = info.name.replace(/^sub-/, "");
    const entry: Entry = {
      kind: "chain",
      name: info.name,
      aliases: short === info.name ? [] : [short],
      pid: info.pid,
      url: info.url,
      exited: info.exited,
      stop: info.stop,
      restarting: false,
      start: async () => {
        const chain = await startAnvil(info.options);
        return { pid: chain.process.pid!, exited: exitOf(chain.process), stop: chain.stop };
      },
    };
    this.watch(entry);
  }

  /** Watches a relayer; a restart runs it again with the same config (its store keeps its state). */
  addRelayer(c: LocalConsortium, proc: RelayerProcess): void {
    const entry: Entry = {
      kind: "relayer",
      name: proc.side.slug,
      aliases: [proc.side.key],
      pid: proc.pid,
      url: proc.healthUrl,
      log: proc.logFile,
      exited: proc.exited,
      stop: () => proc.stop(),
      restarting: false,
      start: async () => {
        const p = spawnRelayer(c, proc.side);
        await healthy(p.healthUrl, p.exited, HEALTH_TIMEOUT_MS).catch(async (err: Error) => {
          await p.stop(2_000);
          throw new Error(`relayer ${proc.side.slug} ${err.message}; see ${p.logFile}`);
        });
        return { pid: p.pid, exited: p.exited, stop: () => p.stop() };
      },
    };
    this.watch(entry);
  }

  /**
   * Watches the independent verifier; a restart runs it again (it reads the ledger again and skips what it endorsed).
   */
  addVerifier(v: LocalVerifier, name: string): void {
    const proc = v.process;
    if (proc === null) return;
    const entry: Entry = {
      kind: "verifier",
      name,
      aliases: ["audit"],
      pid: proc.pid,
      url: v.healthUrl,
      log: v.logFile,
      exited: proc.exited,
      stop: () => v.stop(),
      restarting: false,
      start: async () => {
        const p = await v.start();
        return { pid: p.pid, exited: p.exited, stop: () => v.stop() };
      },
    };
    this.watch(entry);
  }

  /** Watches the attester; a restart runs it again on the same port (the endpoint its key published). */
  addAttester(a: LocalAttester, name: string): void {
    const entry: Entry = {
      kind: "attester",
      name,
      aliases: ["audit"],
      pid: a.pid,
      url: a.healthUrl,
      log: a.logFile,
      exited: a.exited,
      stop: () => a.stop(),
      restarting: false,
      start: async () => {
        await a.start();
        return { pid: a.pid, exited: a.exited, stop: () => a.stop() };
      },
    };
    this.watch(entry);
  }

  private watch(entry: Entry): void {
    if (!this.entries.includes(entry)) this.entries.push(entry);
    const pid = entry.pid;
    void entry.exited.then((code) => {
      if (this.stopping || entry.restarting || entry.pid !== pid) return;
      this.say(
        `${entry.kind} ${entry.name} (pid ${pid}) died (${code})${entry.log ? `, log ${entry.log}` : ""}; restart ` +
          `it with: npx ccgp local restart ${entry.kind} ${entry.name}`,
      );
    });
  }

  members(): Member[] {
    return this.entries.map(({ kind, name, aliases, pid, url, log }) => ({ kind, name, aliases, pid, url, log }));
  }

  private find(kind: string, name: string): Entry {
    const found = this.entries.find((e) => e.kind === kind && (e.name === name || e.aliases.includes(name)));
    if (!found) {
      const known = this.entries.filter((e) => e.kind === kind).map((e) => e.name);
      throw new Error(
        known.length
          ? `no ${kind} named "${name}": expected one of ${known.join(", ")}`
          : `expected chain, relayer, verifier or attester, got "${kind}"`,
      );
    }
    return found;
  }

  /** Stops one (if it runs) and starts it again; resolves with a line saying what happened. */
  async restart(kind: string, name: string): Promise<string> {
    const entry = this.find(kind, name);
    if (entry.restarting) throw new Error(`${kind} ${entry.name} is already restarting`);
    entry.restarting = true;
    try {
      const before = entry.pid;
      await entry.stop();
      const started = await entry.start();
      Object.assign(entry, { pid: started.pid, exited: started.exited, stop: started.stop });
      entry.restarting = false;
      this.watch(entry);
      const line = `${kind} ${entry.name} restarted: pid ${before} -> ${started.pid}`;
      this.say(line);
      this.onChange?.();
      return line;
    } finally {
      entry.restarting = false;
    }
  }

  /** Called after a restart (the pointer file is rewritten with the new pids). */
  onChange?: () => void;

  /**
   * Serves `POST /restart/<chain|relayer|verifier|attester>/<name>` and `GET /members` on 127.0.0.1; resolves with its
   * URL.
   */
  serve(): Promise<string> {
    this.server = createServer((req, res) => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      const parts = (req.url ?? "").split("/").filter(Boolean).map(decodeURIComponent);
      if (req.method === "GET" && parts[0] === "members") return send(200, { members: this.members() });
      if (req.method === "POST" && parts[0] === "restart" && parts.length === 3)
        return void this.restart(parts[1]!, parts[2]!).then(
          (message) => send(200, { message }),
          (err: Error) => send(400, { error: err.message }),
        );
      send(404, { error: "POST /restart/<chain|relayer|verifier|attester>/<name> or GET /members" });
    });
    return new Promise((resolve) =>
      this.server!.listen(0, "127.0.0.1", () =>
        resolve(`http://127.0.0.1:${(this.server!.address() as { port: number }).port}`),
      ),
    );
  }

  /** Stops the relayers first (they need their chains to stop cleanly), then the chains, then this run's strays. */
  async stopAll(runDir: string): Promise<void> {
    this.stopping = true;
    this.server?.close();
    await Promise.all(this.entries.filter((e) => e.kind !== "chain").map((e) => e.stop()));
    await Promise.all(strayRelayers(runDir).map(stopPid));
    await Promise.all(this.entries.filter((e) => e.kind === "chain").map((e) => e.stop()));
  }
}

/**
 * Relayer processes started by hand with one of this run's configs (`--config <runDir>/relayer-*.json`); Linux only.
 */
export function strayRelayers(runDir: string): number[] {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const pid of pids) {
    try {
      const args = readFileSync(join("/proc", pid, "cmdline"), "utf8").split("\0");
      const i = args.indexOf("--config");
      if (i < 0 || !args[i + 1]) continue;
      const config = resolve(readlinkSync(join("/proc", pid, "cwd")), args[i + 1]!);
      if (config.startsWith(`${resolve(runDir)}/`) && /relayer-[^/]*\.json$/.test(config)) found.push(Number(pid));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found.filter((p) => p !== process.pid);
}

/** SIGTERM, then SIGKILL after 10 s. */
async function stopPid(pid: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + 10_000;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(pid, "SIGKILL");
}
