/**
 * The chaos run: a real local consortium (three anvil nodes, the deployed contracts, two relayer processes, the
 * attester and the independent verifier), N cross-chain transactions both ways (A -> B and B -> A) in both initiation
 * modes (custody writes that confirm, writes that fail on the target and compensate the source step, requests that
 * expire), and seeded faults meanwhile:
 * - relayer SIGKILLs at chosen moments (during intake, countersigning, delivery, a ledger write, a store commit) and
 *   at random ones, each followed by a restart;
 * - each node (sub-chain A, sub-chain B, the governance chain) stopped and started again with its state kept (anvil
 *   `--state`) on its port, while every process that follows it keeps its connections and pending receipts;
 * - reorgs of sub-chain A and of the governance chain, inside and beyond the confirmation depth;
 * - TCP faults through fault proxies on each relayer's peer endpoint (requests and, apart, answers back), on each
 *   relayer's link to its own node and on each relayer's link to the governance node (delay, drop, reset), and cuts
 *   longer than the retry window: of each peer link (short-deadline requests sent meanwhile must expire), of B's
 *   answers to A (requests still reach B and run there), of A's link to its node and of B's link to the governance
 *   node.
 * Then an overload burst (ten times the relayer's rate) and a fuzzer of AMDP requests. At the end the ledger is
 * checked against both sub-chains. The same seed makes the same choices.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { setupLocalConsortium, type SideKey } from "../scripts/lib/local-consortium";
import { freePort } from "../scripts/lib/anvil";
import { Cluster, type KillTrigger, type Links } from "./cluster";
import { Driver, FINAL, type DriveProfile, type Duplicates, type OverloadResult, type TwoPhaseCheck } from "./driver";
import type { FuzzResult } from "./fuzz";
import { FaultProxy, type Direction } from "./proxy";
import { Rng } from "./rng";

export type FaultKind =
  | "kill-intake"
  | "kill-countersign"
  | "kill-delivery"
  | "kill-ledger"
  | "kill-commit"
  | "kill-random"
  | "node-restart-a"
  | "node-restart-b"
  | "node-restart-gov"
  | "reorg-sub-inside"
  | "reorg-sub-beyond"
  | "reorg-gov-inside"
  | "reorg-gov-beyond"
  | "net-delay"
  | "net-drop"
  | "net-reset"
  | "cut"
  | "cut-answers"
  | "cut-peer-a"
  | "cut-node-a"
  | "cut-gov-b";

export interface ChaosOptions {
  transactions: number;
  seed: number;
  fuzzRequests: number;
  /** Faults that must happen (in a seeded order); default: every kind, scaled to `transactions`. */
  faults?: FaultKind[];
  /** Random extra faults while transactions are driven (default true). */
  extraFaults?: boolean;
  /** Spread the transactions over at least this many seconds (default 0.4 s a transaction), beside the faults. */
  driveSeconds?: number;
  /** Seconds of overload (default 3). */
  overloadSeconds?: number;
  log?: (line: string) => void;
  runDir?: string;
}

export interface ChaosReport {
  seed: number;
  transactions: number;
  durationSeconds: number;
  faults: Record<string, number>;
  recoveries: number;
  recoverMs: { p50: number; p99: number; samples: number };
  /** Triggered kills whose moment never came within the wait (killed then instead). */
  triggerMisses: number;
  states: Record<string, number>;
  /** Transactions per state, by kind of request (custody writes, chain-initiated, two-phase transfers...). */
  byKind: Record<string, Record<string, number>>;
  /** The two-phase transfers against both sub-chains. */
  twoPhase: TwoPhaseCheck;
  lost: number;
  /** Short-deadline requests (sent during cuts) whose deadline passed before an intake took them: never accepted. */
  deadlineBeforeAcceptance: number;
  duplicated: Duplicates;
  notFinal: string[];
  manual: number;
  /** Seconds from acceptance to a final state. */
  finalSeconds: { p50: number; p99: number };
  /** Where the drive's time went. */
  driveProfile: DriveProfile;
  fuzz: FuzzResult;
  overload: OverloadResult;
  unexpectedExits: string[];
  rssMiB: { a: number; b: number };
  timeline: Array<{ t: number; counts: Record<string, number> }>;
  passed: boolean;
  failures: string[];
}

/** The relayers' per-pipe and per-app rate in the run: the overload sends ten times this. */
const RELAYER_RATE = 10;
/** Confirmation depth of every relayer in the run: reorgs go 1 block deep (inside it) and 4 (beyond it). */
const CONFIRMATIONS = 2;
const CUT_TTL_SECONDS = 8;
/** Random extra faults (kills, link faults) while the run is driven, per transaction: 30 in a run of 1,000. */
const EXTRA_FAULTS_PER_TX = 0.03;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const percentile = (xs: number[], p: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

/** Every fault kind, scaled to the run: at least 20 kills per 1,000 transactions across the chosen moments. */
export function defaultFaults(transactions: number): FaultKind[] {
  const per = (k: number) => Math.max(1, Math.round((transactions * k) / 1000));
  const repeat = (kind: FaultKind, n: number): FaultKind[] => Array.from({ length: n }, () => kind);
  return [
    ...repeat("kill-intake", per(3)),
    ...repeat("kill-countersign", per(3)),
    ...repeat("kill-delivery", per(4)),
    ...repeat("kill-ledger", per(4)),
    ...repeat("kill-commit", per(3)),
    ...repeat("kill-random", per(3)),
    ...repeat("node-restart-a", per(1)),
    ...repeat("node-restart-b", per(1)),
    ...repeat("node-restart-gov", per(2)),
    ...repeat("reorg-sub-inside", per(1)),
    ...repeat("reorg-sub-beyond", per(1)),
    ...repeat("reorg-gov-inside", per(1)),
    ...repeat("reorg-gov-beyond", per(1)),
    ...repeat("net-delay", per(9)),
    ...repeat("net-drop", per(9)),
    ...repeat("net-reset", per(2)),
    ...repeat("cut", per(2)),
    ...repeat("cut-answers", per(2)),
    ...repeat("cut-peer-a", per(1)),
    ...repeat("cut-node-a", per(2)),
    ...repeat("cut-gov-b", per(1)),
  ];
}

/** A link a delay or a drop acts on: a proxy, and which of its directions. */
interface LinkFault {
  name: string;
  proxy: keyof Links;
  direction: Direction;
}

/** Delays and drops take these in turn (from a seeded start), so a run of nine or more of a kind meets every one. */
const LINK_FAULTS: LinkFault[] = [
  { name: "A -> B requests (peer link)", proxy: "peerB", direction: "up" },
  { name: "B -> A answers (peer link)", proxy: "peerB", direction: "down" },
  { name: "B -> its node link", proxy: "nodeB", direction: "both" },
  { name: "A -> governance node link", proxy: "govA", direction: "both" },
  { name: "B -> A requests (peer link)", proxy: "peerA", direction: "up" },
  { name: "A -> B answers (peer link)", proxy: "peerA", direction: "down" },
  { name: "A -> its node link", proxy: "nodeA", direction: "both" },
  { name: "B -> governance node link", proxy: "govB", direction: "both" },
  { name: "attester and verifier -> governance node link", proxy: "govServices", direction: "both" },
];

/** What the relayer logs (debug level) when the work a kill aims at is in flight. */
const TRIGGERS = {
  countersign: /"msg":"packet received"/,
  delivery: /"item":"tx:[^"]+:deliver"[^\n]*"msg":"work item started"/,
  ledger:
    /"item":"(tx:[^"]+:open|[a-z]+:[^"]+:record:\d+|verify:[^"]+|[a-z]+:[^"]+:compensate:\d+)"[^\n]*"msg":"work item started"/,
  commit: /"msg":"ledger write"/,
};

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const outer = options.log ?? (() => undefined);
  const rng = new Rng(options.seed);
  const started = Date.now();
  const c = await setupLocalConsortium({
    persistChains: true,
    confirmations: CONFIRMATIONS,
    relayerRatePerSecond: RELAYER_RATE,
    relayerLogLevel: "debug",
    auditorApi: false,
    // The two-phase example (an AssetLedger on each sub-chain, the assets pipe A -> B) for the transfers in the mix.
    assets: true,
    // A tenth of the run's requests fail on B on purpose (to be compensated). At the default weight (-20 a failure,
    // +1 a completion) that restricts B after about 400 transactions, as the credit score is meant to, and the pipe
    // then refuses everything: the run weighs a failure as a completion, so it tests faults, not the credit policy.
    credit: { failed: -1 },
    runDir: options.runDir,
    log: () => undefined,
  });
  process.env[c.passwordEnv] = c.password;
  // The run's own lines go to a file beside the processes' logs too: a run cut short still leaves them.
  mkdirSync(join(c.runDir, "logs"), { recursive: true });
  const logFile = join(c.runDir, "logs", "chaos.log");
  const log = (line: string): void => {
    appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
    outer(line);
  };
  // Each relayer listens for its peer on a port of its own; its registered endpoint is the proxy in front of it.
  const peerPorts = { a: await freePort(), b: await freePort() };
  const links: Links = {
    peerB: new FaultProxy(c.business.b.ports.peer, peerPorts.b),
    peerA: new FaultProxy(c.business.a.ports.peer, peerPorts.a),
    nodeA: new FaultProxy(await freePort(), c.chains.a.port),
    nodeB: new FaultProxy(await freePort(), c.chains.b.port),
    govA: new FaultProxy(await freePort(), c.chains.governance.port),
    govB: new FaultProxy(await freePort(), c.chains.governance.port),
    govServices: new FaultProxy(await freePort(), c.chains.governance.port),
  };
  await Promise.all(Object.values(links).map((proxy) => proxy.start()));
  const cluster = new Cluster(c, links, peerPorts);
  const stopOnSignal = (): void => {
    log("interrupted: stopping every process of the run");
    void cluster.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  const faults: Record<string, number> = {};
  const count = (kind: string) => (faults[kind] = (faults[kind] ?? 0) + 1);
  try {
    await cluster.proxyServices();
    cluster.start("a");
    cluster.start("b");
    await Promise.all([cluster.healthy("a"), cluster.healthy("b")]);
    log(`consortium up in ${c.runDir}; relayers healthy`);
    const drive = new Driver(c, rng, log, RELAYER_RATE);
    await drive.prepare();
    let driving = true;
    let sampling = true;
    const timeline: ChaosReport["timeline"] = [];
    const sampler = (async () => {
      while (sampling) {
        cluster.sampleRss();
        timeline.push({ t: Math.round((Date.now() - started) / 1000), counts: drive.counts() });
        await drive.refresh();
        await sleep(2_000);
      }
    })();

    const plan = shuffle(options.faults ?? defaultFaults(options.transactions), rng);
    const linkTurn = {
      "net-delay": rng.int(0, LINK_FAULTS.length - 1),
      "net-drop": rng.int(0, LINK_FAULTS.length - 1),
    };
    /**
     * A link cut (or its answers lost) for longer than the retry window of short-deadline requests sent meanwhile (none
     * when the cut keeps the intake from taking requests at all: it answers 503 until its node is back).
     */
    const cut = async (
      proxy: FaultProxy,
      mode: "cut" | "drop",
      direction: Direction,
      expiring: SideKey | null = "a",
    ): Promise<void> => {
      proxy.set(mode, 0, direction);
      try {
        if (expiring !== null) await drive.expiring(2, CUT_TTL_SECONDS, expiring);
        // Until the last of them (signed before `expiring` returned) is past its deadline, with a margin.
        await sleep((CUT_TTL_SECONDS + 3) * 1000);
      } finally {
        proxy.set("pass");
        // Connections whose bytes were swallowed are broken (a TLS record cut in two): reset, as a healed link would.
        proxy.reset();
      }
    };
    const inject = async (kind: FaultKind): Promise<void> => {
      const down = rng.int(300, 2_500);
      const trigger = (pattern: RegExp, delayMs = 0): KillTrigger => ({ pattern, delayMs, timeoutMs: 30_000 });
      // Once the run is driven, a kill aimed at work in flight sends that work itself.
      const feed = () => (driving ? undefined : void drive.extra());
      switch (kind) {
        case "kill-intake":
          count("kill A during intake");
          return cluster.kill("a", down);
        case "kill-countersign":
          count("kill B during countersigning");
          return cluster.kill("b", down, trigger(TRIGGERS.countersign, rng.int(0, 3)), feed);
        case "kill-delivery":
          count("kill A during delivery");
          return cluster.kill("a", down, trigger(TRIGGERS.delivery, rng.int(0, 5)), feed);
        case "kill-ledger": {
          const key = rng.pick(["a", "b"] as const);
          count(`kill ${key.toUpperCase()} during a ledger write`);
          return cluster.kill(key, down, trigger(TRIGGERS.ledger, rng.int(0, 20)), feed);
        }
        case "kill-commit": {
          const key = rng.pick(["a", "b"] as const);
          count(`kill ${key.toUpperCase()} during a store commit`);
          return cluster.kill(key, down, trigger(TRIGGERS.commit, rng.int(0, 2)), feed);
        }
        case "kill-random": {
          const key = rng.pick(["a", "b"] as const);
          count(`kill ${key.toUpperCase()} at a random moment`);
          return cluster.kill(key, down);
        }
        case "node-restart-a":
        case "node-restart-b":
        case "node-restart-gov": {
          const node = ({ "node-restart-a": "a", "node-restart-b": "b", "node-restart-gov": "governance" } as const)[
            kind
          ];
          count(
            `node restart (${node === "governance" ? "governance chain" : `sub-chain ${node.toUpperCase()}`}, state kept)`,
          );
          return cluster.restartNode(node, rng.int(500, 2_000));
        }
        case "reorg-sub-inside":
        case "reorg-sub-beyond":
        case "reorg-gov-inside":
        case "reorg-gov-beyond": {
          const gov = kind.startsWith("reorg-gov");
          const depth = kind.endsWith("inside") ? CONFIRMATIONS - 1 : CONFIRMATIONS + 2;
          const where = gov ? "governance chain" : "sub-chain A";
          count(
            `reorg ${where}, ${depth} block(s): ${kind.endsWith("inside") ? "inside" : "beyond"} the confirmation depth`,
          );
          const moved = await drive.reorg(gov ? drive.gov : drive.subA, depth);
          log(`reorg of ${where}, depth ${depth}: ${moved} transaction(s) mined again`);
          return;
        }
        case "net-delay":
        case "net-drop": {
          const mode = kind === "net-delay" ? "delay" : "drop";
          const link = LINK_FAULTS[linkTurn[kind]++ % LINK_FAULTS.length]!;
          count(`${mode} ${link.name}`);
          const proxy = links[link.proxy];
          proxy.set(mode, 200, link.direction);
          await sleep(rng.int(1_000, 3_000));
          proxy.set("pass");
          proxy.reset();
          return;
        }
        case "net-reset":
          count("reset connections (every link)");
          for (const proxy of Object.values(links)) proxy.reset();
          return;
        case "cut":
          count("cut A -> B peer link longer than the retry window of short-deadline requests");
          return cut(links.peerB, "cut", "both");
        case "cut-answers":
          count("cut B -> A answers (peer link; requests still reach B) longer than the retry window");
          return cut(links.peerB, "drop", "down");
        case "cut-peer-a":
          count("cut B -> A peer link longer than the retry window of short-deadline requests");
          return cut(links.peerA, "cut", "both", "b");
        case "cut-node-a":
          count("cut A -> its node link longer than the retry window");
          return cut(links.nodeA, "cut", "both", null);
        case "cut-gov-b":
          count("cut B -> governance node link longer than the retry window of short-deadline requests");
          return cut(links.govB, "cut", "both");
      }
    };
    // A fault the run could not recover from ends the injection, not the run: the rest is still driven, settled and
    // checked, and the report names it (an unhandled rejection would kill the harness and leave its processes).
    let chaosError: string | undefined;
    const chaos = (async () => {
      const extras: FaultKind[] = ["kill-random", "net-delay", "net-drop", "net-reset"];
      let extrasLeft =
        options.extraFaults === false ? 0 : Math.max(2, Math.round(options.transactions * EXTRA_FAULTS_PER_TX));
      // The faults are spread over the transactions, not over time: the k-th comes once about k spacings of them are
      // sent, so a slow drive (a relayer restarting) meets as many faults per transaction as a fast one.
      const spacing = options.transactions / (plan.length + extrasLeft + 1);
      // Nor do the transactions run ahead of the faults: a kill takes longer than sending a few of them.
      let injected = 0;
      drive.allowed = () => (plan.length + extrasLeft === 0 ? Infinity : (injected + 2) * spacing);
      for (let k = 1; plan.length > 0 || (driving && extrasLeft > 0); k++, injected++) {
        while (driving && drive.submitted < k * spacing) await sleep(200);
        await sleep(rng.int(200, 1_500));
        const planned = plan.length > 0 && (extrasLeft === 0 || !driving || rng.next() < 0.7);
        if (!planned && !driving) break;
        const kind = planned ? plan.shift()! : rng.pick(extras);
        if (!planned) extrasLeft -= 1;
        if (kind === "kill-intake") {
          // Killed while an app request is in flight: the next post arms the kill.
          const delay = rng.int(0, 4);
          const armed = new Promise<string>((resolve) =>
            drive.onNextPost(() => setTimeout(() => resolve("posted"), delay)),
          );
          if (!driving) void drive.extra();
          const idle = sleep(30_000).then(() => "idle");
          if ((await Promise.race([armed, idle])) === "idle") cluster.triggerMisses += 1;
          drive.onNextPost(() => undefined);
        }
        log(`fault: ${kind}`);
        await inject(kind);
      }
    })().catch((error: unknown) => {
      chaosError = error instanceof Error ? error.message : String(error);
      log(`fault injection stopped: ${chaosError}`);
    });
    const drove = drive.run(options.transactions, options.driveSeconds ?? options.transactions * 0.4);
    await drove;
    driving = false;
    log(`driven: ${drive.tracked.size} accepted; waiting for the faults to end`);
    await chaos;
    for (const proxy of Object.values(links)) proxy.set("pass");
    const unhealthy = (await Promise.allSettled([cluster.healthy("a"), cluster.healthy("b")])).flatMap((r) =>
      r.status === "rejected" ? [String((r.reason as Error).message ?? r.reason)] : [],
    );
    for (const u of unhealthy) log(u);
    log("faults over; overload burst");
    const overload = await drive.overload(RELAYER_RATE * 10, options.overloadSeconds ?? 3);
    log(`overload: ${JSON.stringify(overload)}; waiting for every transaction to be final`);
    const settleBy = Date.now() + Math.max(5 * 60_000, options.transactions * 600);
    for (let round = 1; Date.now() < settleBy; round++) {
      // Looked at each second (the last transaction's move is seen at once), told every fifth.
      await sleep(1_000);
      await drive.refresh();
      if (drive.allFinal()) break;
      if (round % 5 !== 0) continue;
      const open = [...drive.tracked.values()].filter((t) => !FINAL.has(t.state) && t.state !== "Manual");
      log(
        `settling: ${JSON.stringify(drive.counts())}; e.g. ${open
          .slice(0, 3)
          .map((t) => `${t.txId} (${t.kind})`)
          .join(", ")}`,
      );
    }
    // Fuzzed once the transactions are final: the relayers' work would slow it, not harden it (a fuzzed request is
    // refused before anything is journaled). Its base packet is a confirmed one.
    log(`fuzzing ${options.fuzzRequests} requests`);
    const fuzzResult = await drive.fuzz(options.fuzzRequests, cluster);
    log(
      `fuzz: ${fuzzResult.refused}/${fuzzResult.sent} refused with a named error; ${JSON.stringify(fuzzResult.rates)}`,
    );
    sampling = false;
    await sampler;
    cluster.sampleRss();
    const checks = await drive.check();
    timeline.push({ t: Math.round((Date.now() - started) / 1000), counts: drive.counts() });
    const states = drive.counts();
    const failures: string[] = [];
    if (chaosError !== undefined) failures.push(`fault injection stopped: ${chaosError}`);
    failures.push(...unhealthy);
    if (checks.lost > 0) failures.push(`${checks.lost} accepted transaction(s) not on the ledger`);
    const dup = checks.duplicated;
    if (dup.executions + dup.results + dup.endorsements + dup.doneAndCompensated > 0)
      failures.push(`duplicates: ${JSON.stringify(dup)}`);
    if (checks.twoPhase.wrong.length > 0)
      failures.push(
        `${checks.twoPhase.wrong.length} two-phase transfer(s) half done: ${checks.twoPhase.wrong.slice(0, 5).join("; ")}`,
      );
    if (checks.notFinal.length > 0)
      failures.push(`${checks.notFinal.length} transaction(s) not final: ${checks.notFinal.slice(0, 5).join(", ")}`);
    if ((states.Manual ?? 0) > 0) failures.push(`${states.Manual} transaction(s) in Manual`);
    if (fuzzResult.notRefused > 0)
      failures.push(`${fuzzResult.notRefused} fuzzed request(s) not refused with a named error`);
    if (cluster.unexpected.length > 0) failures.push(`unexpected exits: ${cluster.unexpected.join("; ")}`);
    if (overload.refused429 === 0) failures.push("overload was never answered 429");
    if (overload.refused429 !== overload.withRetryAfter) failures.push("a 429 without Retry-After");
    if (overload.accepted > overload.limitAdmits)
      failures.push(`overload: ${overload.accepted} accepted, more than the limit admits (${overload.limitAdmits})`);
    if (Math.max(cluster.rss.a, cluster.rss.b) > 1024)
      failures.push(`relayer RSS above 1 GiB: ${JSON.stringify(cluster.rss)}`);
    const finalSeconds = [...drive.tracked.values()]
      .filter((t) => t.finalAt !== undefined && FINAL.has(t.state))
      .map((t) => (t.finalAt! - t.acceptedAt) / 1000);
    return {
      seed: options.seed,
      transactions: drive.tracked.size,
      durationSeconds: Math.round((Date.now() - started) / 1000),
      faults,
      recoveries: cluster.recoverMs.length,
      recoverMs: {
        p50: percentile(cluster.recoverMs, 50),
        p99: percentile(cluster.recoverMs, 99),
        samples: cluster.recoverMs.length,
      },
      triggerMisses: cluster.triggerMisses,
      states,
      byKind: drive.countsByKind(),
      twoPhase: checks.twoPhase,
      lost: checks.lost,
      deadlineBeforeAcceptance: drive.deadlineBeforeAcceptance,
      duplicated: dup,
      notFinal: checks.notFinal,
      manual: states.Manual ?? 0,
      finalSeconds: { p50: Math.round(percentile(finalSeconds, 50)), p99: Math.round(percentile(finalSeconds, 99)) },
      driveProfile: drive.profile,
      fuzz: fuzzResult,
      overload,
      unexpectedExits: cluster.unexpected,
      rssMiB: { a: Math.round(cluster.rss.a), b: Math.round(cluster.rss.b) },
      timeline,
      passed: failures.length === 0,
      failures,
    };
  } finally {
    process.removeListener("SIGINT", stopOnSignal);
    process.removeListener("SIGTERM", stopOnSignal);
    await cluster.stop();
  }
}

function shuffle<T>(items: T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
