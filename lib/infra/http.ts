import type { IncomingMessage, ServerResponse } from "node:http";
import { CcgpError } from "./errors";

/** Reads a request body, refusing (413) once it exceeds `limit` bytes instead of buffering it all. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) {
      reject(
        new CcgpError("PAYLOAD_TOO_LARGE", `request body of ${declared} bytes exceeds the limit of ${limit}`, {
          limit,
        }),
      );
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        // Not destroyed here: the caller answers 413 first; the answer closes the connection (see sendJson), so the
        // rest of the body is never read. A chunked body has no length to refuse up front: this is its limit.
        req.off("data", onData);
        req.pause();
        chunks.length = 0;
        reject(new CcgpError("PAYLOAD_TOO_LARGE", `request body exceeds the limit of ${limit} bytes`, { limit }));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  // An answer given before the request's body was read (a refusal of its size, its route, its rate) closes the
  // connection: reading the rest only to keep the connection alive would take whatever a client chooses to send.
  const unread = res.req !== undefined && !res.req.complete;
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...(unread ? { connection: "close" } : {}),
    ...headers,
  });
  res.end(text);
}

/** The error body every endpoint answers with: a stable code and a readable message. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

/** HTTP status for well-known refusal codes; other `CcgpError`s from handlers are 400, anything else 500. */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  PEER_NOT_PINNED: 403,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  QUEUE_FULL: 429,
  NOT_FOUND: 404,
};

/** The `Retry-After` header (whole seconds, at least 1) for a refusal whose details name `retryAfterMs`. */
export function retryAfterHeader(details: Readonly<Record<string, unknown>>): Record<string, string> {
  const ms = Number(details.retryAfterMs);
  if (details.retryAfterMs === undefined || !Number.isFinite(ms) || ms < 0) return {};
  return { "retry-after": String(Math.max(1, Math.ceil(ms / 1000))) };
}
