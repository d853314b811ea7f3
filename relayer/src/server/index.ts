export { PeerServer } from "./peer-server";
export type {
  PeerIdentity,
  PeerRefusal,
  PeerRequest,
  PeerResponse,
  PeerRouteHandler,
  PeerServerOptions,
} from "./peer-server";
export { PeerClient, type PeerCallResult, type PeerClientOptions } from "./peer-client";
export { OpsServer, type OpsServerOptions } from "./ops-server";
export { runHealthChecks, chainCheck, peerHeartbeatCheck } from "./health";
export type { CheckResult, HealthCheck, HealthReport } from "./health";
export { certificateFingerprint, loadTlsMaterial, normalizeFingerprint, pinSet } from "./tls";
export type { PinPolicy, TlsMaterial } from "./tls";
export { STATUS_BY_CODE } from "../../../lib/infra/http";
