import { CcgpError } from "../../../lib/infra/errors";
import type { Clock } from "./token-bucket";

export interface BacklogOptions {
  /**
   * The most work the relayer holds at once: unfinished work items plus requests being answered (`limits.maxQueue`).
   */
  maxQueue: number;
  /** Unfinished work items now (a store count: read at most once per `refreshMs`). */
  count: () => number;
  refreshMs?: number;
  /** What a refusal asks the sender to wait (default 1 s). */
  retryAfterMs?: number;
  clock?: Clock;
}

/**
 * Back-pressure at the relayer's doors (the app intake and the peer endpoint): a request is admitted only while the
 * relayer's backlog is below `maxQueue`; otherwise it is refused with `QUEUE_FULL` and a `retryAfterMs`, answered 429
 * with `Retry-After`, before its body is read. What was accepted is durable work in the store and is never dropped;
 * the backlog bounds how much of it builds up, and with it the memory of requests in hand.
 */
export class Backlog {
  private _counted = 0;
  private _countedAt = Number.NEGATIVE_INFINITY;
  private _inHand = 0;
  private readonly _clock: Clock;

  constructor(private readonly _options: BacklogOptions) {
    if (!Number.isInteger(_options.maxQueue) || _options.maxQueue < 1)
      throw new CcgpError("FLOW_BAD_CAPACITY", "the backlog needs a capacity of at least 1", {
        maxQueue: _options.maxQueue,
      });
    this._clock = _options.clock ?? Date.now;
  }

  /** Work held now: unfinished items (as last counted) and requests in hand. */
  get size(): number {
    const now = this._clock();
    if (now - this._countedAt >= (this._options.refreshMs ?? 100)) {
      this._counted = this._options.count();
      this._countedAt = now;
    }
    return this._counted + this._inHand;
  }

  /** Admits one request, or throws `QUEUE_FULL`. Call the returned function once the request is answered. */
  admit(): () => void {
    const size = this.size;
    if (size >= this._options.maxQueue) {
      const retryAfterMs = this._options.retryAfterMs ?? 1_000;
      throw new CcgpError(
        "QUEUE_FULL",
        `the relayer holds ${size} items of work (limit ${this._options.maxQueue}); retry in ${retryAfterMs} ms`,
        {
          size,
          maxQueue: this._options.maxQueue,
          retryAfterMs,
        },
      );
    }
    this._inHand += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this._inHand -= 1;
    };
  }

  /** Accepted work was stored: count it now rather than at the next refresh. */
  added(items = 1): void {
    this._counted += items;
  }
}
