import { Counter, Gauge, Registry, Summary, collectDefaultMetrics } from "prom-client";
import type { RelayerEvent } from "./events";

export interface MetricsOptions {
  /** Prefix of every series name (default `ccgp_`). */
  prefix?: string;
  /** Milliseconds since the epoch; heartbeat ages are computed from it at scrape time. */
  clock?: () => number;
  /** Also export Node.js process metrics (CPU, memory, event loop). */
  processMetrics?: boolean;
}

/** The relayer's Prometheus registry, fed only through `record(event)`. */
export class RelayerMetrics {
  readonly registry = new Registry();
  private readonly _clock: () => number;
  private readonly _prefix: string;
  private readonly _lastHeartbeat = new Map<string, number>();
  private readonly _packetsIn: Counter<"pipe">;
  private readonly _packetsOut: Counter<"pipe">;
  private readonly _packetsRefused: Counter<"reason" | "pipe">;
  private readonly _ledgerWrites: Counter<"operation" | "outcome">;
  private readonly _reorgs: Counter<"chain">;
  private readonly _chainHead: Gauge<"chain">;
  private readonly _chainProcessed: Gauge<"chain">;
  private readonly _chainLag: Gauge<"chain">;
  private readonly _queueDepth: Gauge<"queue">;
  private readonly _outboxPending: Gauge;
  private readonly _attestations: Summary;
  private readonly _attestationWaits: Summary;
  private readonly _attestationSteps: Counter<"collection">;

  constructor(options: MetricsOptions = {}) {
    const p = options.prefix ?? "ccgp_";
    const registers = [this.registry];
    this._clock = options.clock ?? Date.now;
    this._prefix = p;
    this._packetsIn = new Counter({
      name: `${p}packets_in_total`,
      help: "AMDP packets received and admitted",
      labelNames: ["pipe"],
      registers,
    });
    this._packetsOut = new Counter({
      name: `${p}packets_out_total`,
      help: "AMDP packets delivered to peers",
      labelNames: ["pipe"],
      registers,
    });
    this._packetsRefused = new Counter({
      name: `${p}packets_refused_total`,
      help: "Packets and requests refused, by reason code",
      labelNames: ["reason", "pipe"],
      registers,
    });
    this._ledgerWrites = new Counter({
      name: `${p}ledger_writes_total`,
      help: "Transactions sent to the governance-chain ledger",
      labelNames: ["operation", "outcome"],
      registers,
    });
    this._reorgs = new Counter({
      name: `${p}reorgs_total`,
      help: "Reorgs seen by chain subscriptions",
      labelNames: ["chain"],
      registers,
    });
    this._chainHead = new Gauge({
      name: `${p}chain_head_block`,
      help: "Latest block height of each chain",
      labelNames: ["chain"],
      registers,
    });
    this._chainProcessed = new Gauge({
      name: `${p}chain_processed_block`,
      help: "Highest block durably processed (checkpoint)",
      labelNames: ["chain"],
      registers,
    });
    this._chainLag = new Gauge({
      name: `${p}chain_lag_blocks`,
      help: "Head minus processed height",
      labelNames: ["chain"],
      registers,
    });
    this._queueDepth = new Gauge({
      name: `${p}queue_depth`,
      help: "Items waiting in bounded queues",
      labelNames: ["queue"],
      registers,
    });
    this._outboxPending = new Gauge({ name: `${p}outbox_pending`, help: "Outbox items not finished yet", registers });
    // Quantiles, not buckets: the latency attestations add to a step is a stated target (p50 at most 10 ms); the
    // collection may start before the step, so what the step waits for is its own figure.
    this._attestations = new Summary({
      name: `${p}attestation_collect_seconds`,
      help: "Time to collect a step's attestations from the attesters' endpoints",
      percentiles: [0.5, 0.95, 0.99],
      registers,
    });
    this._attestationWaits = new Summary({
      name: `${p}attestation_wait_seconds`,
      help: "Time a step waited for its attestations (the collection starts when the packet is accepted)",
      percentiles: [0.5, 0.95, 0.99],
      registers,
    });
    this._attestationSteps = new Counter({
      name: `${p}attestation_steps_total`,
      help: "Steps that took their attestations: from the collection started ahead, or collected at the step",
      labelNames: ["collection"],
      registers,
    });
    this._registerHeartbeatAge(p);
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: p });
  }

  /** Peer heartbeat age is computed when scraped, so a silent peer's age keeps growing. */
  private _registerHeartbeatAge(prefix: string): void {
    const ages = this._lastHeartbeat;
    const clock = this._clock;
    new Gauge({
      name: `${prefix}peer_heartbeat_age_seconds`,
      help: "Seconds since the last heartbeat of each peer proxy",
      labelNames: ["peer"],
      registers: [this.registry],
      collect() {
        const now = clock();
        for (const [peer, at] of ages) this.set({ peer }, Math.max(0, (now - at) / 1000));
      },
    });
  }

  record(event: RelayerEvent): void {
    switch (event.type) {
      case "packetIn":
        return this._packetsIn.inc({ pipe: event.pipeId });
      case "packetOut":
        return this._packetsOut.inc({ pipe: event.pipeId });
      case "packetRefused":
        return this._packetsRefused.inc({ reason: event.reason, pipe: event.pipeId ?? "" });
      case "ledgerWrite":
        return this._ledgerWrites.inc({ operation: event.operation, outcome: event.outcome });
      case "chainProgress":
        this._chainHead.set({ chain: event.chain }, Number(event.head));
        this._chainProcessed.set({ chain: event.chain }, Number(event.processed));
        return this._chainLag.set({ chain: event.chain }, Math.max(0, Number(event.head - event.processed)));
      case "reorg":
        return this._reorgs.inc({ chain: event.chain });
      case "peerHeartbeat":
        this._lastHeartbeat.set(event.peer, Math.max(event.at, this._lastHeartbeat.get(event.peer) ?? 0));
        return;
      case "queueDepth":
        return this._queueDepth.set({ queue: event.queue }, event.depth);
      case "outboxPending":
        return this._outboxPending.set(event.count);
      case "attestationsCollected":
        return this._attestations.observe(event.seconds);
      case "attestationsWaited":
        this._attestationSteps.inc({ collection: event.collection });
        return this._attestationWaits.observe(event.seconds);
    }
  }

  /** Exports `<prefix>rpc_calls_total{chain, method}`: JSON-RPC calls to each node, read from `calls` when scraped. */
  observeRpc(calls: () => Iterable<{ chain: string; method: string; count: number }>): void {
    new Counter({
      name: `${this._prefix}rpc_calls_total`,
      help: "JSON-RPC calls made to each chain's node, by method (each call of a batch counts)",
      labelNames: ["chain", "method"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of calls()) this.inc({ chain: c.chain, method: c.method }, c.count);
      },
    });
  }

  /** Milliseconds since the epoch of each peer's last heartbeat (for the health report). */
  lastHeartbeats(): ReadonlyMap<string, number> {
    return this._lastHeartbeat;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
