import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { CcgpError } from "../../../lib/infra/errors";
import { silentLogger, type Logger } from "../../../lib/infra/log";
import { readBody, retryAfterHeader, sendError, sendJson, STATUS_BY_CODE } from "../../../lib/infra/http";
import { normalizeFingerprint, type PinPolicy, type TlsMaterial } from "./tls";

export interface PeerIdentity {
  /** SHA-256 fingerprint of the client certificate, lowercase hex. */
  fingerprint: string;
  /** Certificate subject common name. */
  commonName: string;
  remoteAddress: string;
}

export interface PeerRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  peer: PeerIdentity;
}

export interface PeerResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type PeerRouteHandler = (request: PeerRequest) => Promise<PeerResponse> | PeerResponse;

/** A refused connection or request, for the refusal record and metrics. */
export interface PeerRefusal {
  reason: string;
  message: string;
  peer: Partial<PeerIdentity>;
  path?: string;
}

export interface PeerServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  tls: TlsMaterial;
  /** Client certificates must be issued by `tls.ca` AND have a pinned fingerprint. */
  isPinned: PinPolicy;
  maxBodyBytes: number;
  onRefusal?: (refusal: PeerRefusal) => void;
  logger?: Logger;
}

/**
 * The cross-chain proxy's HTTPS endpoint for peer proxies: mutual TLS against the consortium CA, and every
 * request re-checks the client certificate's fingerprint against the pin policy (so a peer whose registration
 * is revoked is refused at once, even on an open connection).
 */
export class PeerServer {
  private readonly _routes = new Map<string, PeerRouteHandler>();
  private readonly _server: Server;
  private readonly _log: Logger;

  constructor(private readonly _options: PeerServerOptions) {
    this._log = _options.logger ?? silentLogger();
    this._server = createServer(
      {
        cert: _options.tls.cert,
        key: _options.tls.key,
        ca: _options.tls.ca,
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: "TLSv1.2",
      },
      (req, res) => {
        this._handle(req, res).catch((error: unknown) => {
          // Last resort: a fault outside the route handler must answer, not become an unhandled rejection.
          this._log.error({ err: error }, "peer request failed");
          if (!res.headersSent) sendError(res, 500, "INTERNAL", "internal error");
          else res.destroy();
        });
      },
    );
    this._server.on("tlsClientError", (error, socket) => {
      this._refuse({
        reason: "TLS_HANDSHAKE_FAILED",
        message: error.message,
        peer: { remoteAddress: socket.remoteAddress ?? "" },
      });
    });
  }

  route(method: string, path: string, handler: PeerRouteHandler): this {
    this._routes.set(`${method.toUpperCase()} ${path}`, handler);
    return this;
  }

  async start(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this._server.once("error", reject);
      this._server.listen(this._options.port, this._options.host, () => {
        this._server.off("error", reject);
        resolve();
      });
    });
    const address = this.address();
    this._log.info({ host: address.address, port: address.port }, "peer server listening");
    return address;
  }

  address(): AddressInfo {
    return this._server.address() as AddressInfo;
  }

  /**
   * Calls `listener` after each completed mutual-TLS handshake (`resumed`: a resumed TLS session); returns the
   * function that stops it. For connection metrics and for tests that count handshakes.
   */
  onConnection(listener: (connection: { resumed: boolean }) => void): () => void {
    const handler = (socket: TLSSocket): void => listener({ resumed: socket.isSessionReused() });
    this._server.on("secureConnection", handler);
    return () => void this._server.off("secureConnection", handler);
  }

  /**
   * Closes kept-alive connections with no request in flight (as the keep-alive timeout would): peers handshake again.
   */
  closeIdleConnections(): void {
    this._server.closeIdleConnections();
  }

  async stop(): Promise<void> {
    if (!this._server.listening) return;
    const closed = new Promise<void>((resolve) => this._server.close(() => resolve()));
    this._server.closeAllConnections();
    await closed;
  }

  private _refuse(refusal: PeerRefusal): void {
    this._log.warn(refusal, "peer refused");
    this._options.onRefusal?.(refusal);
  }

  private _identify(socket: TLSSocket): PeerIdentity {
    const cert = socket.getPeerCertificate();
    const commonName = cert.subject?.CN;
    return {
      fingerprint: normalizeFingerprint(cert.fingerprint256),
      commonName: Array.isArray(commonName) ? commonName.join(",") : (commonName ?? ""),
      remoteAddress: socket.remoteAddress ?? "",
    };
  }

  private async _handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    const peer = this._identify(req.socket as TLSSocket);
    if (!this._options.isPinned(peer.fingerprint)) {
      const message =
        `client certificate ${peer.fingerprint} (CN=${peer.commonName}) is not registered for any ` + `peer proxy`;
      this._refuse({ reason: "PEER_NOT_PINNED", message, peer, path });
      return sendError(res, 403, "PEER_NOT_PINNED", message);
    }
    const handler = this._routes.get(`${req.method} ${path}`);
    if (handler === undefined) return sendError(res, 404, "NOT_FOUND", `no route ${req.method} ${path}`);
    try {
      const body = await readBody(req, this._options.maxBodyBytes);
      const response = await handler({ method: req.method ?? "GET", path, headers: req.headers, body, peer });
      sendJson(res, response.status, response.body ?? null, response.headers);
    } catch (error) {
      if (error instanceof CcgpError) {
        const status = STATUS_BY_CODE[error.code] ?? 400;
        if (status === 413 || status === 429 || status === 503)
          this._refuse({ reason: error.code, message: error.message, peer, path });
        return sendError(res, status, error.code, error.message, retryAfterHeader(error.details));
      }
      this._log.error({ err: error, path }, "peer route failed");
      sendError(res, 500, "INTERNAL", "internal error");
    }
  }
}
