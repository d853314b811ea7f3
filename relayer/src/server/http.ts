import type { IncomingMessage, ServerResponse } from "node:http";
import { CcgpError } from "../errors";

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
    req.on("data", (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        reject(new CcgpError("PAYLOAD_TOO_LARGE", `request body exceeds the limit of ${limit} bytes`, { limit }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
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
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
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
  QUEUE_FULL: 503,
  NOT_FOUND: 404,
};
