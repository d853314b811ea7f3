import type { Hex } from "viem";

export type OutboxKind = "packet" | "ledger-write";

/**
 * `pending` waits for its `nextAttemptAt`; `sent` is claimed by a worker (a lease: if the worker dies, the
 * item is due again when the lease ends); `done` and `failed` are final; `orphaned` came from a block that a
 * reorg removed before the item was sent.
 */
export type OutboxStatus = "pending" | "sent" | "done" | "failed" | "orphaned";

export interface OutboxInput {
  /** Caller-chosen unique id, e.g. `<chain>:<blockHash>:<logIndex>` or `ledger:<txId>:<step>`. */
  id: string;
  kind: OutboxKind;
  /** Stored as JSON; bigints become decimal strings. */
  payload: unknown;
}

export interface OutboxSource {
  chain: string;
  height: bigint;
  blockHash: Hex;
}

export interface OutboxItem {
  id: string;
  kind: OutboxKind;
  payload: unknown;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  lastError: string | null;
  source: OutboxSource | null;
}

export type InboxStatus = "accepted" | "done" | "failed" | "refused";

export interface InboxEntry {
  key: string;
  packet: unknown;
  status: InboxStatus;
  result: unknown;
  receivedAt: number;
}

export interface RefusalInput {
  /** Stable reason code, e.g. `AMDP_BAD_SIGNATURE`, `PEER_NOT_PINNED`, `RATE_LIMITED`. */
  reason: string;
  pipeId?: string;
  signer?: string;
  details?: Record<string, unknown>;
  at?: number;
}

export interface Refusal {
  id: number;
  at: number;
  reason: string;
  pipeId: string | null;
  signer: string | null;
  details: Record<string, unknown>;
}

export interface RecordBlockResult {
  inserted: number;
  /** Items whose id was already in the outbox (not orphaned): kept as they were. */
  duplicates: number;
}

export interface RewindResult {
  /** The checkpoint after the rewind: the highest remembered block below the fork. */
  checkpoint: { height: bigint; hash: Hex };
  /** Pending items from removed blocks, now `orphaned` (never sent). */
  orphaned: number;
  /** Items from removed blocks that were already claimed or finished: the caller must reconcile them. */
  inFlight: OutboxItem[];
}

/** Inbox keys: one per AMDP packet (pipe + sequence) or per transaction step. */
export const inboxKey = {
  packet: (pipeId: string, sequence: bigint | number): string => `packet:${pipeId}:${sequence}`,
  step: (txId: string, step: number): string => `step:${txId}:${step}`,
};
