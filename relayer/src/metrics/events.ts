/**
 * Everything the relayer reports about itself, as one typed union (Hyperlane's `RelayerEvent`): modules
 * emit events, `RelayerMetrics.record` turns them into Prometheus series, so no module touches prom-client.
 */
export type RelayerEvent =
  /** An AMDP packet arrived from a peer proxy and passed admission. */
  | { type: "packetIn"; pipeId: string }
  /** An AMDP packet was delivered to a peer proxy. */
  | { type: "packetOut"; pipeId: string }
  /** A packet or request was refused (bad signature, unpinned peer, rate limit, full queue, ...). */
  | { type: "packetRefused"; reason: string; pipeId?: string }
  /** A transaction was sent to the governance-chain ledger. */
  | { type: "ledgerWrite"; operation: string; outcome: "ok" | "failed" }
  /** A chain's head and the height the relayer has durably processed. */
  | { type: "chainProgress"; chain: string; head: bigint; processed: bigint }
  /** A subscription saw delivered blocks disappear. */
  | { type: "reorg"; chain: string; forkHeight: bigint }
  /** A heartbeat arrived from a peer proxy at `at` (ms since the epoch). */
  | { type: "peerHeartbeat"; peer: string; at: number }
  /** Current depth of a bounded queue. */
  | { type: "queueDepth"; queue: string; depth: number }
  /** Outbox items not finished yet. */
  | { type: "outboxPending"; count: number }
  /** The attestations of a step were collected from the attesters' endpoints in `seconds`. */
  | { type: "attestationsCollected"; seconds: number }
  /**
   * A step waited `seconds` for its attestations: what was left of the collection started ahead (`ahead`), a whole
   * one it started itself (`step`: none was started, or it was not this request's), or one again after the early one
   * failed (`again`).
   */
  | { type: "attestationsWaited"; seconds: number; collection: "ahead" | "step" | "again" };

export type RelayerEventType = RelayerEvent["type"];
