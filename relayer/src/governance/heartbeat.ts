/** Heartbeats of this relayer's service on the governance chain (`ServiceRegistry.heartbeat`, by its signer). */
import type { Hex } from "viem";
import { sleep } from "../../../lib/chain/follow";
import type { Logger } from "../../../lib/infra/log";
import type { RelayerMetrics } from "../metrics";
import type { GovernanceContracts } from "./contracts";

export async function sendHeartbeats(
  contracts: GovernanceContracts,
  serviceId: Hex,
  everySeconds: number,
  deps: { log: Logger; metrics: RelayerMetrics },
  signal: AbortSignal,
): Promise<void> {
  if (everySeconds <= 0) return;
  while (!signal.aborted) {
    try {
      await contracts.services.write("heartbeat", [serviceId]);
      deps.metrics.record({ type: "ledgerWrite", operation: "heartbeat", outcome: "ok" });
    } catch (error) {
      // A missed heartbeat is not fatal: peers see the age grow, and the next one is tried on time.
      deps.metrics.record({ type: "ledgerWrite", operation: "heartbeat", outcome: "failed" });
      deps.log.warn({ err: error }, "heartbeat failed");
    }
    await sleep(everySeconds * 1000, signal);
  }
}
