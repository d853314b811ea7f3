import { CcgpError } from "../../../lib/infra/errors";

/** Milliseconds; injected so tests drive time instead of waiting for it. */
export type Clock = () => number;

/** A token bucket: `burst` tokens at most, refilled continuously at `ratePerSecond`. */
export class TokenBucket {
  private _tokens: number;
  private _updatedAt: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly _clock: Clock = Date.now,
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1))
      throw new CcgpError("FLOW_BAD_RATE", `a token bucket needs a rate above 0 and a burst of at least 1`, {
        ratePerSecond,
        burst,
      });
    this._tokens = burst;
    this._updatedAt = _clock();
  }

  private _refill(): void {
    const now = this._clock();
    const elapsed = Math.max(0, now - this._updatedAt); // a clock that steps back never adds tokens
    this._tokens = Math.min(this.burst, this._tokens + (elapsed * this.ratePerSecond) / 1000);
    this._updatedAt = Math.max(now, this._updatedAt);
  }

  available(): number {
    this._refill();
    return this._tokens;
  }

  /** True when refilled up to the burst: such a bucket is indistinguishable from a fresh one. */
  isFull(): boolean {
    return this.available() >= this.burst;
  }

  tryTake(cost = 1): boolean {
    this._refill();
    if (this._tokens < cost) return false;
    this._tokens -= cost;
    return true;
  }

  /** Milliseconds until `cost` tokens are there; `Infinity` if `cost` exceeds the burst. */
  retryAfterMs(cost = 1): number {
    if (cost > this.burst) return Infinity;
    const missing = cost - this.available();
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.ratePerSecond);
  }
}
