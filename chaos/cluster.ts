/**
 * The running pieces of a chaos run and what the faults do to them: the two relayer processes (SIGKILLed and
 * started again), sub-chain B's node (stopped and started with its state kept), and the fault proxies on A's link to
 * B's peer endpoint (both ways: A's requests, B's answers) and on each relayer's link to its own node.
 */
import { readFileSync } from "node:fs";
import type { LocalConsortium, SideKey } from "../scripts/lib/local-consortium";
import { startAnvil, type LocalChain } from "../scripts/lib/anvil";
import { spawnRelayer, type RelayerProcess } from "../scripts/lib/local/relayers";
import { waitForLine } from "./logwatch";
import type { FaultProxy } from "./proxy";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A moment to kill at: the first log line matching `pattern` after the kill is armed, then `delayMs` more. */
export interface KillTrigger {
  pattern: RegExp;
  delayMs: number;
  /** How long to wait for the line before killing anyway (reported as a miss). */
  timeoutMs: number;
}

/** The proxied links: A <-> B's peer endpoint, and each relayer to its own sub-chain node. */
export interface Links {
  peer: FaultProxy;
  nodeA: FaultProxy;
  nodeB: FaultProxy;
}

export class Cluster {
  relayers: Partial<Record<SideKey, RelayerProcess>> = {};
  chainB: LocalChain | null = null;
  readonly killedByUs = new Set<number>();
  readonly unexpected: string[] = [];
  readonly recoverMs: number[] = [];
  readonly rss = { a: 0, b: 0 };
  /** Triggered kills whose line never came in time (killed at that moment instead). */
  triggerMisses = 0;

  constructor(
    readonly c: LocalConsortium,
    readonly links: Links,
    readonly bPeerPort: number,
  ) {}

  start(key: SideKey): RelayerProcess {
    const env: NodeJS.ProcessEnv =
      key === "b"
        ? {
            CCGP_SERVER_PORT: String(this.bPeerPort),
            CCGP_CHAIN_SUB_B_RPC: `http://127.0.0.1:${this.links.nodeB.listenPort}`,
          }
        : { CCGP_CHAIN_SUB_A_RPC: `http://127.0.0.1:${this.links.nodeA.listenPort}` };
    const proc = spawnRelayer(this.c, this.c.business[key], env);
    this.relayers[key] = proc;
    void proc.exited.then((code) => {
      if (!this.killedByUs.has(proc.pid) && code !== 0)
        this.unexpected.push(`relayer ${key} (pid ${proc.pid}) exited ${code}`);
    });
    return proc;
  }

  async healthy(key: SideKey, timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: string;
    for (;;) {
      const proc = this.relayers[key]!;
      try {
        // Longer than the relayer's own 5 s bound on its checks: a busy relayer answers slowly, not wrongly.
        const res = await fetch(proc.healthUrl, { signal: AbortSignal.timeout(8_000) });
        if (res.status === 200) return;
        last = `${res.status} ${await res.text()}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() > deadline)
        throw new Error(
          `relayer ${key} not healthy after ${timeoutMs} ms (last answer: ${last.slice(0, 500)}); see ${proc.logFile}`,
        );
      await sleep(200);
    }
  }

  /** SIGKILLs a relayer (at a trigger's moment, if given), waits `downMs`, starts it again and waits until healthy. */
  async kill(key: SideKey, downMs: number, trigger?: KillTrigger, onArmed?: () => void): Promise<void> {
    const proc = this.relayers[key]!;
    if (trigger !== undefined) {
      const seen = waitForLine(proc.logFile, trigger.pattern, trigger.timeoutMs);
      onArmed?.();
      if (!(await seen)) this.triggerMisses += 1;
      else if (trigger.delayMs > 0) await sleep(trigger.delayMs);
    }
    this.killedByUs.add(proc.pid);
    process.kill(proc.pid, "SIGKILL");
    await proc.exited;
    await sleep(downMs);
    const started = Date.now();
    this.start(key);
    // Recovered: serving again, and its peers' heartbeats seen (what `/health` answers 200 for).
    await this.healthy(key);
    this.recoverMs.push(Date.now() - started);
  }

  /** Stops B's sub-chain node (SIGTERM: anvil writes its state) and starts it again on the same port with it. */
  async restartNodeB(downMs: number): Promise<void> {
    const current = this.chainB;
    if (current) await current.stop();
    else await this.c.chains.b.stop();
    await sleep(downMs);
    this.chainB = await startAnvil(this.c.chains.b.options);
  }

  sampleRss(): void {
    for (const key of ["a", "b"] as const) {
      const pid = this.relayers[key]?.pid;
      if (pid === undefined) continue;
      try {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
        this.rss[key] = Math.max(this.rss[key], kb / 1024);
      } catch {
        // exited between the look and the read
      }
    }
  }

  async stop(): Promise<void> {
    for (const proc of Object.values(this.relayers)) {
      if (proc === undefined) continue;
      this.killedByUs.add(proc.pid);
      await proc.stop(5_000);
    }
    await Promise.all(Object.values(this.links).map((proxy) => proxy.stop()));
    await this.chainB?.stop();
    await this.c.stop();
  }
}
