/**
 * TLS pinning from the governance chain: a peer is accepted (as server or client) only if the SHA-256 fingerprint
 * of its certificate is registered for an enabled service. Synchronous, over the view's in-memory services.
 */
import type { Hex } from "viem";
import type { PinPolicy } from "../server/tls";
import { ServiceStatus } from "../../../lib/abi/contracts";
import type { GovernanceView } from "./view";

/** Any enabled service's certificate: the policy of the peer server (who may call us). */
export function enabledServicePins(view: GovernanceView): PinPolicy {
  return (fingerprint) => {
    for (const s of view.services.values())
      if (s.status === ServiceStatus.Enabled && s.fingerprint === fingerprint) return true;
    return false;
  };
}

/** Exactly one service's certificate: what we accept from the server we dial for a pipe's target. */
export function servicePin(view: GovernanceView, serviceId: Hex): PinPolicy {
  return (fingerprint) => {
    const s = view.services.get(serviceId);
    return s !== undefined && s.status === ServiceStatus.Enabled && s.fingerprint === fingerprint;
  };
}
