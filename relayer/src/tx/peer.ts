/** The cross-chain proxy's peer endpoint: mutual TLS pinned to enabled services' fingerprints, `POST /v1/packets`, and
 * `POST /v1/results` (the values of the reads a peer's packets made here). */
import { enabledServicePins } from "../governance/pins";
import { PeerServer } from "../server";
import type { TxContext } from "./context";
import { receivePacket } from "./inbound";
import { serveResultsTo } from "./results";

const WIRE_SLACK_BYTES = 64 * 1024;

export function peerServer(rt: TxContext, options: { host: string; port: number }): PeerServer {
  const server = new PeerServer({
    host: options.host,
    port: options.port,
    tls: rt.tls,
    isPinned: enabledServicePins(rt.view),
    // Up to four packets of one transaction in one delivery.
    maxBodyBytes: (rt.config.limits.maxPayloadBytes * 2 + WIRE_SLACK_BYTES) * 4,
    logger: rt.rootLog.child({ module: "peer-server" }),
    // Refusals before the route (TLS handshake, unpinned certificate, oversized body) are recorded here.
    onRefusal: (refusal) => {
      rt.store.recordRefusal({
        reason: refusal.reason,
        details: { message: refusal.message, peer: refusal.peer, path: refusal.path, source: "peer" },
      });
      rt.metrics.record({ type: "packetRefused", reason: refusal.reason });
    },
  });
  server.route("POST", "/v1/packets", (request) => receivePacket(rt, request));
  server.route("POST", "/v1/results", (request) => serveResultsTo(rt, request));
  return server;
}
