/**
 * Where attesters serve their signatures: each attester key's own entry in the service registry
 * (`ServiceRegistry.attesterEndpoint`), the only source; no relayer config lists them. An entry is kept `ttlMs`,
 * and read again at once after its endpoint failed, so a moved endpoint is picked up by the next retry.
 */
import type { Address } from "viem";

export interface AttesterEndpoint {
  attester: Address;
  /** Absent: the key published no endpoint (or withdrew it). */
  url?: string;
}

/** Gives the endpoints of a set of attesters; `forget` drops what it holds of one (after a failed request). */
export interface AttesterEndpoints {
  endpoints(attesters: readonly Address[]): Promise<AttesterEndpoint[]>;
  forget(attester: Address): void;
}

/** Reads the registry through `read` (the `attesterEndpoint` view), keeping each answer `ttlMs`. */
export class RegistryAttesterEndpoints implements AttesterEndpoints {
  private readonly _cache = new Map<string, { url: Promise<string>; until: number }>();

  constructor(
    private readonly _read: (attester: Address) => Promise<string>,
    private readonly _ttlMs: number,
    private readonly _now: () => number = Date.now,
  ) {}

  async endpoints(attesters: readonly Address[]): Promise<AttesterEndpoint[]> {
    return Promise.all(
      attesters.map(async (attester) => {
        const url = await this._lookup(attester);
        return url === "" ? { attester } : { attester, url };
      }),
    );
  }

  forget(attester: Address): void {
    this._cache.delete(attester.toLowerCase());
  }

  private _lookup(attester: Address): Promise<string> {
    const key = attester.toLowerCase();
    const now = this._now();
    const held = this._cache.get(key);
    if (held !== undefined && held.until > now) return held.url;
    const url = this._read(attester);
    this._cache.set(key, { url, until: now + this._ttlMs });
    // A failed read is not kept: the next call asks the registry again.
    url.catch(() => this._cache.delete(key));
    return url;
  }
}

/** Fixed endpoints (a bench, or a tool that already knows them). */
export const fixedAttesterEndpoints = (list: readonly AttesterEndpoint[]): AttesterEndpoints => ({
  endpoints: async (attesters) =>
    attesters.map((a) => list.find((e) => e.attester.toLowerCase() === a.toLowerCase()) ?? { attester: a }),
  forget: () => undefined,
});
