import type { ChainPlugin } from "../../../lib/chain/types";

export interface CheckResult {
  ok: boolean;
  detail?: unknown;
}

/** One named health probe; a thrown error or a timeout counts as not ok. */
export type HealthCheck = () => Promise<CheckResult> | CheckResult;

export interface HealthReport {
  status: "ok" | "failing";
  checks: Record<string, CheckResult>;
}

/** Runs every check concurrently, each bounded by `timeoutMs`. */
export async function runHealthChecks(checks: Record<string, HealthCheck>, timeoutMs = 5_000): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<CheckResult>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, detail: `timed out after ${timeoutMs} ms` }), timeoutMs);
      });
      try {
        return [name, await Promise.race([Promise.resolve().then(check), timeout])];
      } catch (error) {
        return [name, { ok: false, detail: (error as Error).message }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const results = Object.fromEntries(entries);
  return { status: entries.every(([, r]) => r.ok) ? "ok" : "failing", checks: results };
}

/** A chain is healthy when its node answers and is not syncing. */
export function chainCheck(plugin: ChainPlugin): HealthCheck {
  return async () => {
    const status = await plugin.status();
    return {
      ok: !status.syncing,
      detail: { chainId: status.chainId, height: status.height.toString(), syncing: status.syncing },
    };
  };
}

/** Peers are healthy when each expected peer sent a heartbeat within `maxAgeMs`. */
export function peerHeartbeatCheck(
  expected: () => Iterable<string>,
  lastSeen: () => ReadonlyMap<string, number>,
  maxAgeMs: number,
  clock: () => number = Date.now,
): HealthCheck {
  return () => {
    const seen = lastSeen();
    const now = clock();
    const stale: Record<string, number | null> = {};
    for (const peer of expected()) {
      const at = seen.get(peer);
      if (at === undefined || now - at > maxAgeMs) stale[peer] = at === undefined ? null : now - at;
    }
    return { ok: Object.keys(stale).length === 0, detail: { stale } };
  };
}
