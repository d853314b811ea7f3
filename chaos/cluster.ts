/**
 * The running pieces of a chaos run and what the faults do to them: the two relayer processes (SIGKILLed and
 * started again), the three anvil nodes (each stopped and started with its state kept, on its port), and the fault
 * proxies in front of each relayer's peer endpoint (both ways: requests, answers), on each relayer's links to its
 * own sub-chain node and to the governance node, and on the attester's and the verifier's link to the governance node.
 */
import { readFileSync, writeFileSync } from "node:fs";
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

/**
 * The proxied links: each relayer's peer endpoint as its peer reaches it (`peerB`: A -> B, `peerA`: B -> A), each
 * relayer to its own sub-chain node, each relayer to the governance node, and the attester and the verifier to it.
 */
export interface Links {
  peerB: FaultProxy;
  peerA: FaultProxy;
  nodeA: FaultProxy;
  nodeB: FaultProxy;
  govA: FaultProxy;
  govB: FaultProxy;
  govServices: FaultProxy;
}

/** The anvil nodes a run restarts. */
export type NodeKey = "governance" | "a" | "b";

/** Where each relayer really listens for its peer (its registered port is the proxy's). */
export type PeerPorts = Record<SideKey, number>;

export class Cluster {
  relayers: Partial<Record<SideKey, RelayerProcess>> = {};
  /** Nodes started again by the run (the consortium's own until then). */
  readonly nodes: Partial<Record<NodeKey, LocalChain>> = {};
  readonly killedByUs = new Set<number>();
  readonly unexpected: string[] = [];
  readonly recoverMs: number[] = [];
  readonly rss = { a: 0, b: 0 };
  /** Triggered kills whose line never came in time (killed at that moment instead). */
  triggerMisses = 0;

  constructor(
    readonly c: LocalConsortium,
    readonly links: Links,
    readonly peerPorts: PeerPorts,
  ) {}

  start(key: SideKey): RelayerProcess {
    const via = (proxy: FaultProxy) => `http://127.0.0.1:${proxy.listenPort}`;
    const env: NodeJS.ProcessEnv = {
      CCGP_SERVER_PORT: String(this.peerPorts[key]),
      [`CCGP_CHAIN_SUB_${key.toUpperCase()}_RPC`]: via(key === "a" ? this.links.nodeA : this.links.nodeB),
      CCGP_GOVERNANCE_RPC: via(key === "a" ? this.links.govA : this.links.govB),
    };
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

  /**
   * Points the attester's and the verifier's configs at the governance node through `links.govServices` and starts
   * both again on them (the consortium starts them on the node itself, before the proxies exist).
   */
  async proxyServices(): Promise<void> {
    const url = `http://127.0.0.1:${this.links.govServices.listenPort}`;
    for (const path of [this.c.attester.configPath, this.c.verifier.configPath]) {
      const json = JSON.parse(readFileSync(path, "utf8")) as { governance: { rpcUrl: string } };
      json.governance.rpcUrl = url;
      writeFileSync(path, JSON.stringify(json, null, 2) + "\n");
    }
    await this.c.attester.stop();
    await this.c.attester.start();
    await this.c.verifier.start();
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

  /**
   * Stops a node (SIGTERM: anvil writes its state) and starts it again on the same port with it, while every process
   * that follows it (relayers, the attester and the verifier for the governance node) keeps running.
   */
  async restartNode(key: NodeKey, downMs: number): Promise<void> {
    const current = this.nodes[key];
    if (current) await current.stop();
    else await this.c.chains[key].stop();
    await sleep(downMs);
    this.nodes[key] = await startAnvil(this.c.chains[key].options);
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
    await Promise.all(Object.values(this.nodes).map((node) => node.stop()));
    await this.c.stop();
  }
}
