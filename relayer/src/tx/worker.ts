/**
 * The outbox worker: runs due work items (packets to deliver, steps to execute, ledger writes) with bounded
 * concurrency. An item's handler checks first whether its work was already done (on chain), so delivery is at least
 * once and execution exactly once in effect. A handler may name follow-up items; they are enqueued in the same SQLite
 * transaction that marks the item done, so a crash never loses the next step nor runs one twice.
 *
 * Failures: `Defer` waits without spending an attempt; `GiveUp` is final at once; anything else is a transient fault,
 * retried with exponential backoff and jitter (no sooner than a `retryAfterMs` the error names). An item with a time
 * bound (`retryUntil`: a packet's deadline) is retried until then, however many attempts that takes; others until the
 * store's attempt bound. Then the item is final and `onGiveUp` runs (the transaction driver decides: escalate, or
 * leave a transaction past its deadline to expire). An attempt is counted when it fails, never when it is claimed, so
 * work a crash took from the worker spends nothing; after a restart that work is spread over time (`releaseClaims`).
 */
import { CcgpError } from "../../../lib/infra/errors";
import type { Logger } from "../../../lib/infra/log";
import type { RelayerMetrics } from "../metrics";
import type { OutboxInput, OutboxItem, RelayerStore } from "../store";

export interface WorkOutcome {
  /** Items to enqueue atomically with this one's completion. */
  next?: OutboxInput[];
  /** Store writes (journal, inbox) committed in the same SQLite transaction as this item's completion: one commit. */
  commit?: () => void;
}

export type WorkHandler = (item: OutboxItem) => Promise<WorkOutcome | void>;

/** Permanent: retrying cannot help (a refusal by a contract or a peer, bad input). */
export class GiveUp extends CcgpError {}

/** Not yet: try again after `delayMs` without counting an attempt (e.g. an earlier sequence must open first). */
export class Defer extends CcgpError {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super("DEFERRED", message, { delayMs });
  }
}

export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface WorkerOptions {
  concurrency: number;
  pollIntervalMs: number;
  retry: RetryPolicy;
  log: Logger;
  metrics?: RelayerMetrics;
  /** Called once when an item fails finally. */
  onGiveUp?: (item: OutboxItem, error: unknown) => Promise<void> | void;
  /** The time (ms) until which an item's transient faults are retried; `null`: the store's attempt bound. */
  retryUntil?: (item: OutboxItem) => number | null;
  /** After a restart, released claims become due spread over this long (default 4 x `retry.baseDelayMs`). */
  releaseSpreadMs?: number;
  clock?: () => number;
  random?: () => number;
}

/** Exponential backoff with full jitter over the upper half: attempt 1 waits about `base`. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The `type` field of a stored payload, which picks its handler; `""` if it has none. */
const typeOf = (payload: unknown): string =>
  typeof payload === "object" && payload !== null && "type" in payload && typeof payload.type === "string"
    ? payload.type
    : "";

export class Worker {
  private readonly _handlers = new Map<string, WorkHandler>();
  private readonly _running = new Set<string>();
  /** Items in hand (claimed and running). */
  private readonly _inFlight = new Set<Promise<void>>();
  private _signal: AbortSignal | undefined;
  private readonly _clock: () => number;
  private _wake: (() => void) | undefined;
  private _kicked = false;

  constructor(
    private readonly _store: RelayerStore,
    private readonly _options: WorkerOptions,
  ) {
    this._clock = _options.clock ?? Date.now;
  }

  /** Called once for each item that fails finally (replaces `options.onGiveUp`). */
  onGiveUp(handler: (item: OutboxItem, error: unknown) => Promise<void> | void): this {
    this._options.onGiveUp = handler;
    return this;
  }

  /** Handles items whose payload has `type`. */
  handle(type: string, handler: WorkHandler): this {
    this._handlers.set(type, handler);
    return this;
  }

  /** Time-bounds retries of items (replaces `options.retryUntil`). */
  retryUntil(bound: (item: OutboxItem) => number | null): this {
    this._options.retryUntil = bound;
    return this;
  }

  /**
   * Items claimed by a process that died become due again (one process owns a store), spread over a short window so
   * that a restart does not send them all at once to peers and nodes that may be restarting too.
   */
  releaseClaims(): number {
    const spread = this._options.releaseSpreadMs ?? 4 * this._options.retry.baseDelayMs;
    return this._store.releaseClaims(this._clock(), spread, this._options.random);
  }

  /** Look for due work now instead of at the next poll. */
  kick(): void {
    this._kicked = true;
    this._wake?.();
  }

  /** Runs until `signal` aborts, then waits for the items in hand. */
  async run(signal: AbortSignal): Promise<void> {
    this._signal = signal;
    const inFlight = this._inFlight;
    while (!signal.aborted) {
      this._kicked = false;
      const free = this._options.concurrency - inFlight.size;
      const items =
        free > 0 && this._anyDue()
          ? this._store.claimDue(this._clock(), free).filter((i) => !this._running.has(i.id))
          : [];
      for (const item of items) this._start(item);
      this._options.metrics?.record({ type: "outboxPending", count: this._store.pendingCount() });
      if (items.length === 0 || inFlight.size >= this._options.concurrency) await this._pause(signal);
    }
    await Promise.all(inFlight);
  }

  private _start(item: OutboxItem): void {
    this._running.add(item.id);
    const done: Promise<void> = this._run(item).finally(() => {
      this._running.delete(item.id);
      this._inFlight.delete(done);
      this.kick();
    });
    this._inFlight.add(done);
  }

  /** A plain read: claiming is a write transaction, too dear to run on every wake-up for nothing. */
  private _anyDue(): boolean {
    return (
      this._store
        .prepare("SELECT 1 FROM outbox WHERE status IN ('pending', 'sent') AND next_attempt_at <= ? LIMIT 1")
        .get(this._clock()) !== undefined
    );
  }

  private _pause(signal: AbortSignal): Promise<void> {
    if (this._kicked) return Promise.resolve();
    // A timer and a wake function, not an AbortController per pause: aborting one builds a DOMException with its
    // stack, on every kick (about 2% of a relayer's CPU under load).
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this._wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this._options.pollIntervalMs);
      signal.addEventListener("abort", done, { once: true });
      this._wake = done;
    });
  }

  private async _run(item: OutboxItem): Promise<void> {
    const type = typeOf(item.payload);
    const handler = this._handlers.get(type);
    const log = this._options.log.child({ item: item.id, attempt: item.attempts });
    log.debug("work item started");
    try {
      if (handler === undefined)
        throw new GiveUp("WORK_UNKNOWN_TYPE", `no handler for work item type "${type}"`, { type });
      const outcome = (await handler(item)) ?? {};
      // Follow-up items are claimed in the transaction that records this one done, and run at once while there is
      // room: no claim transaction and no trip through the poll loop between the steps of one transaction. A crash
      // leaves them claimed, and claims of a dead process are due at once (`releaseClaims`).
      let room = this._signal?.aborted === false ? this._options.concurrency - this._inFlight.size + 1 : 0;
      const claimed = this._store.transaction(() => {
        outcome.commit?.();
        this._store.markDone(item.id);
        const direct: OutboxItem[] = [];
        for (const next of outcome.next ?? []) {
          const now = room > 0 ? this._store.enqueueClaimed(next, this._clock()) : null;
          if (now !== null) {
            direct.push(now);
            room -= 1;
          } else this._store.enqueue(next); // no room, or the id exists: `enqueue` revives it if a reorg orphaned it
        }
        return direct;
      });
      log.debug({ next: outcome.next?.map((n) => n.id) }, "work item done");
      for (const next of claimed) this._start(next);
    } catch (error) {
      await this._failed(item, error, log);
    }
  }

  private async _failed(item: OutboxItem, error: unknown, log: Logger): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    const now = this._clock();
    if (error instanceof Defer) {
      // Back to pending without an attempt: waiting is not failing.
      this._store
        .prepare(
          `UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ?, updated_at = ?
           WHERE id = ? AND status = 'sent'`,
        )
        .run(now + error.delayMs, message, now, item.id);
      log.debug({ delayMs: error.delayMs }, message);
      return;
    }
    const until = error instanceof GiveUp ? null : (this._options.retryUntil?.(item) ?? null);
    const retryAt = error instanceof GiveUp ? null : this._retryAt(item, error, now, until);
    const status = this._store.markFailed(item.id, {
      error: message,
      retryAt,
      bound: until === null ? "attempts" : "time",
    });
    if (status === "pending") {
      log.warn({ err: error, retryAt }, "work item failed; will retry");
      return;
    }
    log.error({ err: error }, "work item failed finally");
    try {
      await this._options.onGiveUp?.({ ...item, attempts: item.attempts + 1 }, error);
    } catch (handoff) {
      log.error({ err: handoff }, "hand-off of a failed work item failed");
    }
  }

  /** Backoff with jitter, no sooner than the fault asks; within `until` (one last try at it), `null` past it. */
  private _retryAt(item: OutboxItem, error: unknown, now: number, until: number | null): number | null {
    const hinted = error instanceof CcgpError ? Number(error.details.retryAfterMs ?? 0) : 0;
    const delay = Math.max(
      backoffMs(item.attempts + 1, this._options.retry, this._options.random),
      Number.isFinite(hinted) ? hinted : 0,
    );
    if (until === null) return now + delay;
    return now >= until ? null : Math.min(now + delay, until);
  }
}
