import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** Whether `port` can be bound on 127.0.0.1 right now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** The kernel's ephemeral range, from which it picks the local ports of outgoing connections. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (low > 0 && high >= low) return [low, high];
  } catch {
    // Not Linux: the IANA dynamic range.
  }
  return [49152, 65535];
}

const handedOut = new Set<number>();

/**
 * A free TCP port on 127.0.0.1 for a server that listens later. Ports are taken below the kernel's ephemeral range:
 * a port the OS hands out for port 0 comes from that range, and an outgoing connection can take it again before the
 * server listens (seen in CI as EADDRINUSE). A port is never handed out twice by one process.
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const low = 20000;
  const high = Math.max(low + 1000, ephemeralLow) - 1;
  const span = high - low + 1;
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = low + ((start + i) % span);
    if (handedOut.has(port)) continue;
    handedOut.add(port); // before the await, so concurrent callers skip it
    if (await canListen(port)) return port;
    handedOut.delete(port);
  }
  throw new Error(`freePort: no free port on 127.0.0.1 in ${low}-${high}`);
}

/** The anvil binary shipped inside the npm package for this platform (no download). */
export function anvilBinary(): string {
  const os = { linux: "linux", darwin: "darwin", win32: "win32" }[process.platform as string];
  const arch = { x64: "amd64", arm64: "arm64" }[process.arch as string];
  if (!os || !arch) throw new Error(`anvil: no binary for ${process.platform}/${process.arch}`);
  // Only the linux-amd64 build is published on the npm registry this project installs from.
  const pkg = `@foundry-rs/anvil-${os}-${arch}`;
  return join(
    dirname(require.resolve(`${pkg}/package.json`)),
    "bin",
    process.platform === "win32" ? "anvil.exe" : "anvil",
  );
}

export interface LocalChain {
  name: string;
  chainId: number;
  url: string;
  port: number;
  process: ChildProcess;
  /** What it was started with, the port included: `startAnvil(chain.options)` starts it again on the same port. */
  options: AnvilOptions;
  /** The node's HOME, where anvil moves old block states; removed when the node exits. */
  home: string;
  stop(): Promise<void>;
}

export interface AnvilOptions {
  name: string;
  chainId: number;
  port?: number;
  /** Seconds between blocks; automine when omitted. */
  blockTime?: number;
  /**
   * With `blockTime`: mine each transaction at once too (anvil `--mixed-mining`), so blocks keep coming between
   * transactions.
   */
  mixedMining?: boolean;
  /** Where anvil keeps its state between runs (`--state`: loaded at start, written on exit); in memory when omitted. */
  statePath?: string;
  /**
   * With `statePath`: also write the state every this many seconds (anvil `--state-interval`), for a node killed hard.
   */
  stateInterval?: number;
  /**
   * Keep the states of only this many recent blocks, in memory (anvil `--prune-history`): older ones are dropped,
   * not written to disk. Without it anvil writes each old block's state to disk: slower mining, and it filled this
   * machine's disk once. (Most of the slowdown as a chain grows was the hardfork's: see `hardfork`.)
   * Calls at a block older than that fail.
   */
  keptStates?: number;
  /**
   * The EVM rules the node runs (anvil `--hardfork`), default `cancun`: what the contracts are compiled for. From
   * Prague on, every block writes its parent's hash into the EIP-2935 history contract (8,191 slots), so the state
   * grows by a slot a block, and anvil, which rebuilds the whole state root for each block, spends more CPU on each
   * one as the chain grows: 1.0 ms per plain transfer at block 500, 6.9 ms at block 5,000, against a flat 0.65 ms
   * under Cancun (measured with anvil 1.7.1 on this machine).
   */
  hardfork?: string;
  timeoutMs?: number;
}

/** Whether the node on `url` answers with `chainId`: another node already on the port does not count. */
async function answers(url: string, chainId: number): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    const body = (await res.json()) as { result?: string };
    return res.ok && Number(body.result) === chainId;
  } catch {
    return false;
  }
}

/** Resolves with a child's exit code (or signal name) when it ends; at once if it has already ended. */
export function exitOf(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve(child.exitCode ?? child.signalCode ?? "unknown");
  return new Promise((r) => child.once("exit", (code, signal) => r(code ?? signal ?? "unknown")));
}

/** Starts a real anvil node on 127.0.0.1 and waits until it answers JSON-RPC. */
export async function startAnvil(opts: AnvilOptions): Promise<LocalChain> {
  const port = opts.port ?? (await freePort());
  const args = [
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--chain-id",
    String(opts.chainId),
    "--hardfork",
    opts.hardfork ?? "cancun",
    "--silent",
  ];
  if (opts.blockTime) args.push("--block-time", String(opts.blockTime));
  if (opts.blockTime && opts.mixedMining) args.push("--mixed-mining");
  if (opts.statePath) args.push("--state", opts.statePath);
  if (opts.statePath && opts.stateInterval) args.push("--state-interval", String(opts.stateInterval));
  if (opts.keptStates !== undefined) args.push("--prune-history", String(opts.keptStates));
  // anvil moves old block states to disk under $HOME/.foundry/anvil/tmp and leaves them there when it is stopped:
  // gigabytes per benchmark run, which filled this machine's disk. Each node gets a HOME of its own, removed on exit.
  const home = mkdtempSync(join(tmpdir(), `ccgp-anvil-${opts.name.replace(/[^a-z0-9-]/gi, "_")}-`));
  const child = spawn(anvilBinary(), args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, HOME: home },
  });
  child.once("exit", () => rmSync(home, { recursive: true, force: true }));
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (!(await answers(url, opts.chainId))) {
    if (child.exitCode !== null) throw new Error(`anvil ${opts.name} exited with ${child.exitCode}: ${stderr.trim()}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`anvil ${opts.name} did not answer on ${url} in time: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
  return { name: opts.name, chainId: opts.chainId, url, port, process: child, options: { ...opts, port }, home, stop };
}
