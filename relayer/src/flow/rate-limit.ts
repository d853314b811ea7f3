import { CcgpError } from "../../../lib/infra/errors";
import { TokenBucket, type Clock } from "./token-bucket";

export interface RateLimit {
  ratePerSecond: number;
  burst: number;
}

/** One token bucket per key (pipe id, app id). */
export class KeyedRateLimiter {
  private readonly _buckets = new Map<string, TokenBucket>();

  constructor(
    readonly limit: RateLimit,
    private readonly _clock: Clock = Date.now,
    /** Above this many keys, buckets that refilled completely are dropped (they equal fresh ones). */
    private readonly _pruneAbove = 10_000,
  ) {}

  bucket(key: string): TokenBucket {
    let bucket = this._buckets.get(key);
    if (bucket === undefined) {
      if (this._buckets.size >= this._pruneAbove) this._prune();
      bucket = new TokenBucket(this.limit.ratePerSecond, this.limit.burst, this._clock);
      this._buckets.set(key, bucket);
    }
    return bucket;
  }

  get size(): number {
    return this._buckets.size;
  }

  private _prune(): void {
    for (const [key, bucket] of this._buckets) if (bucket.isFull()) this._buckets.delete(key);
  }
}

export type RateScope = "pipe" | "app";

/**
 * Admission by pipe and by application: a packet passes only if both its pipe and its app have a token,
 * and then takes one from each (never one without the other). Refuses with `RATE_LIMITED`.
 */
export class FlowControl {
  private readonly _pipes: KeyedRateLimiter;
  private readonly _apps: KeyedRateLimiter;

  constructor(options: { perPipe: RateLimit; perApp: RateLimit; clock?: Clock }) {
    this._pipes = new KeyedRateLimiter(options.perPipe, options.clock);
    this._apps = new KeyedRateLimiter(options.perApp, options.clock);
  }

  admit(request: { pipeId: string; appId: string }, cost = 1): void {
    const pipe = this._pipes.bucket(request.pipeId);
    const app = this._apps.bucket(request.appId);
    const refusal = (scope: RateScope, key: string, retryAfterMs: number): CcgpError =>
      new CcgpError("RATE_LIMITED", `${scope} ${key} is over its rate limit; retry in ${retryAfterMs} ms`, {
        scope,
        key,
        retryAfterMs,
      });
    if (pipe.available() < cost) throw refusal("pipe", request.pipeId, pipe.retryAfterMs(cost));
    if (app.available() < cost) throw refusal("app", request.appId, app.retryAfterMs(cost));
    pipe.tryTake(cost);
    app.tryTake(cost);
  }
}
