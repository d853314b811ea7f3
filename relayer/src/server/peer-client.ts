import type { IncomingHttpHeaders } from "node:http";
import { request } from "node:https";
import { checkServerIdentity, createSecureContext, type PeerCertificate, type SecureContext } from "node:tls";
import { CcgpError } from "../errors";
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

/**
 * One parsed TLS context per certificate, key and CA (parsing them is most of a connection's CPU on the client side).
 * A new `TlsMaterial` (a rotation) gets a new context.
 */
const contexts = new WeakMap<TlsMaterial, SecureContext>();
function secureContextOf(tls: TlsMaterial): SecureContext {
  let context = contexts.get(tls);
  if (context === undefined) {
    context = createSecureContext({ cert: tls.cert, key: tls.key, ca: tls.ca, minVersion: "TLSv1.2" });
    contexts.set(tls, context);
  }
  return context;
}

/**
 * Calls a peer proxy over mutual TLS. The server certificate must chain to the consortium CA, match the
 * host name, and have a pinned fingerprint; the pin is checked before any request byte is sent.
 * Each call opens its own connection, so a revoked pin takes effect on the next call.
 */
export class PeerClient {
  constructor(private readonly _options: PeerClientOptions) {}

  private _checkServer(host: string, cert: PeerCertificate): Error | undefined {
    const mismatch = checkServerIdentity(host, cert);
    if (mismatch !== undefined) return mismatch;
    const fingerprint = normalizeFingerprint(cert.fingerprint256);
    if (this._options.isPinned(fingerprint)) return undefined;
    return new CcgpError(
      "PEER_NOT_PINNED",
      `server certificate ${fingerprint} (CN=${String(cert.subject?.CN ?? "")}) of ${host} is not registered for any peer proxy`,
      { host, fingerprint },
    );
  }

  /** Sends `body` as JSON; resolves with any HTTP status (refusals included), rejects on transport faults. */
  call(url: string, init: { method?: string; body?: unknown } = {}): Promise<PeerCallResult> {
    const payload = init.body === undefined ? undefined : Buffer.from(JSON.stringify(init.body));
    const limit = this._options.maxResponseBytes ?? 16 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: init.method ?? (payload === undefined ? "GET" : "POST"),
          // A TLS option node passes on to tls.connect (missing from the https request typings).
          ...({ secureContext: secureContextOf(this._options.tls) } as object),
          rejectUnauthorized: true,
          minVersion: "TLSv1.2",
          agent: false,
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
      req.on("timeout", () => req.destroy(new CcgpError("PEER_TIMEOUT", `no answer from ${url} in time`, { url })));
      req.on("error", (error) =>
        reject(
          error instanceof CcgpError
            ? error
            : new CcgpError("PEER_UNREACHABLE", `${url}: ${error.message}`, { url }, { cause: error }),
        ),
      );
      req.end(payload);
    });
  }
}
