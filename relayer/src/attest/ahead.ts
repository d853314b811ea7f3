/**
 * Attestation collections started before their step runs: the target relayer starts one as soon as a received
 * packet's signatures check out, so the attesters' round trips overlap the rest of its checks, the durable accept and
 * the step's own reads, instead of following them. The step takes the collection of exactly its request (the same
 * key) and waits only for what is left of it; one that failed, or none, is collected again at the step. An
 * attestation is no authority by itself (the gateway still checks each signer and field, and the attesters sign only
 * what the ledger opened), so collecting early changes when the signatures are asked for, never what is run.
 */
import type { Hex } from "viem";

interface Held {
  packed: Promise<Hex>;
  until: number;
}

export class AttestationsAhead {
  private readonly _held = new Map<string, Held>();

  constructor(
    /** How long a collection nobody took is kept (a packet refused after its signatures were checked). */
    private readonly _ttlMs = 60_000,
    private readonly _max = 1_000,
    private readonly _now: () => number = Date.now,
  ) {}

  get size(): number {
    return this._held.size;
  }

  /** Starts `collect` under `key` unless one is held already; whether it started it. */
  start(key: string, collect: () => Promise<Hex>): boolean {
    const now = this._now();
    // Oldest first: the ones past their time, then whatever exceeds the bound.
    for (const [k, held] of this._held) {
      if (held.until > now && this._held.size < this._max) break;
      this._held.delete(k);
    }
    if (this._held.has(key)) return false;
    const packed = collect();
    // Whoever takes it sees the failure (and collects again); an untaken one fails quietly.
    packed.catch(() => undefined);
    this._held.set(key, { packed, until: now + this._ttlMs });
    return true;
  }

  /** The collection started under `key`, once: a retried step collects afresh. */
  take(key: string): Promise<Hex> | undefined {
    const held = this._held.get(key);
    this._held.delete(key);
    return held !== undefined && held.until > this._now() ? held.packed : undefined;
  }
}
