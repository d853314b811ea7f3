import type { IncomingHttpHeaders } from "node:http";
import { Agent, request } from "node:https";
import {
  checkServerIdentity,
  createSecureContext,
  type PeerCertificate,
  type SecureContext,
  type TLSSocket,
} from "node:tls";
import { CcgpError } from "../../../lib/infra/errors";
import { normalizeFingerprint, type PinPolicy, type TlsMaterial } from "./tls";

export interface PeerClientOptions {
  /** This proxy's client certificate and key, and the consortium CA. */
  tls: TlsMaterial;
  /** The server's certificate must be pinned by the same rule the server applies to clients. */
  isPinned: PinPolicy;
  timeoutMs?: number;
  maxResponseBytes?: number;
}

export interface PeerCallResult {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or `null` for an empty body. */
  body: unknown;
}

/** Idle connections are closed before the peer server's keep-alive timeout (Node's default: 5 s) can close them. */
const IDLE_MS = 4_000;

/**
 * One parsed TLS context and one pool of kept-alive connections per certificate, key and CA: a mutual-TLS handshake
 * costs round trips and CPU on both sides (parsing the material is most of the client's), about a third of a delivery.
 * A new `TlsMaterial` (a rotation) gets a new context and new connections.
 */
const pools = new WeakMap<TlsMaterial, { context: SecureContext; agent: Agent }>();
function poolOf(tls: TlsMaterial): { context: SecureContext; agent: Agent } {
  let pool = pools.get(tls);
  if (pool === undefined) {
    const context = createSecureContext({ cert: tls.cert, key: tls.key, ca: tls.ca, minVersion: "TLSv1.2" });
    // No TLS session resumption: Node skips `checkServerIdentity` (our pin check) on a resumed session, and its
    // socket reports no peer certificate. Every new connection is a full handshake, checked.
    const agent = new Agent({ keepAlive: true, timeout: IDLE_MS, scheduling: "lifo", maxCachedSessions: 0 });
    pool = { context, agent };
    pools.set(tls, pool);
  }
  return pool;
}

/**
 * Calls a peer proxy over mutual TLS. The server certificate must chain to the consortium CA, match the
 * host name, and have a pinned fingerprint; the pin is checked before any request byte is sent: at the handshake of
 * a new connection, and again before each request on a kept-alive one, so a withdrawn pin takes effect on the next
 * call. A kept-alive connection the server closed meanwhile is retried once on a new one (the receiver takes a
 * packet at most once, so a repeat is harmless).
 */
export class PeerClient {
  constructor(private readonly _options: PeerClientOptions) {}

  private _checkServer(host: string, cert: PeerCertificate): Error | undefined {
    return checkServerIdentity(host, cert) ?? this._checkPin(host, cert);
  }

  private _checkPin(host: string, cert: PeerCertificate): Error | undefined {
    // No certificate to check (a connection that is gone): refused, never assumed.
    if (!cert.fingerprint256)
      return new CcgpError("PEER_NOT_PINNED", `${host} presented no certificate to check against the pins`, { host });
    const fingerprint = normalizeFingerprint(cert.fingerprint256);
    if (this._options.isPinned(fingerprint)) return undefined;
    return new CcgpError(
      "PEER_NOT_PINNED",
      `server certificate ${fingerprint} (CN=${String(cert.subject?.CN ?? "")}) of ${host} is not registered for ` +
        `any peer proxy`,
      { host, fingerprint },
    );
  }

  /** Sends `body` as JSON; resolves with any HTTP status (refusals included), rejects on transport faults. */
  async call(url: string, init: { method?: string; body?: unknown } = {}): Promise<PeerCallResult> {
    try {
      return await this._call(url, init, true);
    } catch (error) {
      if (!(error instanceof StaleConnection)) throw error;
      return this._call(url, init, false);
    }
  }

  private _call(url: string, init: { method?: string; body?: unknown }, reuse: boolean): Promise<PeerCallResult> {
    const payload = init.body === undefined ? undefined : Buffer.from(JSON.stringify(init.body));
    const limit = this._options.maxResponseBytes ?? 16 * 1024 * 1024;
    const pool = poolOf(this._options.tls);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: init.method ?? (payload === undefined ? "GET" : "POST"),
          // A TLS option node passes on to tls.connect (missing from the https request typings).
          ...({ secureContext: pool.context } as object),
          rejectUnauthorized: true,
          minVersion: "TLSv1.2",
          agent: reuse ? pool.agent : false,
          checkServerIdentity: (host, cert) => this._checkServer(host, cert),
          timeout: this._options.timeoutMs ?? 10_000,
          headers:
            payload === undefined ? {} : { "content-type": "application/json", "content-length": payload.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let total = 0;
          res.on("data", (chunk: Buffer) => {
            total += chunk.length;
            if (total > limit) {
              res.destroy(
                new CcgpError("PEER_RESPONSE_TOO_LARGE", `response from ${url} exceeds ${limit} bytes`, { url }),
              );
              return;
            }
            chunks.push(chunk);
          });
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            try {
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: text === "" ? null : JSON.parse(text),
              });
            } catch (error) {
              reject(
                new CcgpError(
                  "PEER_BAD_RESPONSE",
                  `response from ${url} is not JSON`,
                  { url, status: res.statusCode },
                  { cause: error },
                ),
              );
            }
          });
        },
      );
      // A kept-alive connection was checked at its handshake, maybe against a pin withdrawn since: check it again. Node
      // writes the request only after this event, so a refusal here sends nothing.
      req.once("socket", (socket: TLSSocket) => {
        if (!req.reusedSocket) return;
        const refusal = this._checkPin(new URL(url).hostname, socket.getPeerCertificate());
        if (refusal !== undefined) req.destroy(refusal);
      });
      req.on("timeout", () => req.destroy(new CcgpError("PEER_TIMEOUT", `no answer from ${url} in time`, { url })));
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (
          req.reusedSocket &&
          !(error instanceof CcgpError) &&
          (error.code === "ECONNRESET" || error.code === "EPIPE")
        )
          return reject(new StaleConnection());
        reject(
          error instanceof CcgpError
            ? error
            : new CcgpError("PEER_UNREACHABLE", `${url}: ${error.message}`, { url }, { cause: error }),
        );
      });
      req.end(payload);
    });
  }
}

/** The server closed a kept-alive connection just as it was reused. */
class StaleConnection extends Error {}
