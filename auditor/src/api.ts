/**
 * The auditor-only HTTP API. Every request must carry an active auditor account's signature (`auth.ts`); the
 * handler is a plain `(req, res) => void` so the relayer's ops server can mount it under a prefix, and
 * `startAuditorApi` runs it on its own listener. Read-only: GET only.
 *
 *   GET /v1/status
 *   GET /v1/transactions?institution&pipe&account&state&from&to&limit&offset&format=json|csv
 *   GET /v1/transactions/<txId>[?receipts=true]
 *   GET /v1/events?tx&pipe&institution&account&state&contract&event&from&to&limit&offset&format=json|csv
 *   GET /v1/anomalies?now&from&to&refusalThreshold&creditDropThreshold&stuckGrace
 *   GET /v1/reconciliation[?tx=<txId>,<txId>]
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { sendError, sendJson } from "../../lib/infra/http";
import { silentLogger, type Logger } from "../../lib/infra/log";
import type { AuditorAuthenticator } from "./auth";
import { AuditorError, AuditorErrorCode } from "./errors";
import { exportEvents, exportTransactions } from "./export";
import { anomalyOptionsFrom, eventFilterFrom, listFilterFrom, parseFormat, type Params } from "./params";
import type { AuditorQueries } from "./queries";
import { parseTxId } from "./trace";

export interface AuditorApiOptions {
  queries: AuditorQueries;
  auth: AuditorAuthenticator;
  /** Where the API is mounted (e.g. "/auditor" inside the ops server); default "". */
  prefix?: string;
  logger?: Logger;
}

export type AuditorHandler = (req: IncomingMessage, res: ServerResponse) => void;

const STATUS: Record<string, number> = {
  [AuditorErrorCode.BadInput]: 400,
  [AuditorErrorCode.Unauthenticated]: 401,
  [AuditorErrorCode.Forbidden]: 403,
  [AuditorErrorCode.UnknownTx]: 404,
  [AuditorErrorCode.ChainUnreachable]: 502,
  [AuditorErrorCode.Busy]: 503,
};

type Route = (p: Params, rest: string, url: URL) => Promise<{ body: unknown; csv?: string }>;

function routes(q: AuditorQueries): Record<string, Route> {
  return {
    "/v1/status": async () => ({ body: q.status() }),
    "/v1/transactions": async (p, rest) => {
      if (rest !== "") return { body: await q.trace(parseTxId(rest), { receipts: p("receipts") === "true" }) };
      const rows = q.transactions(listFilterFrom(p));
      return parseFormat(p("format")) === "csv" ? { body: null, csv: exportTransactions(rows, "csv") } : { body: rows };
    },
    "/v1/events": async (p) => {
      const rows = q.events(eventFilterFrom(p));
      return parseFormat(p("format")) === "csv" ? { body: null, csv: exportEvents(rows, "csv") } : { body: rows };
    },
    "/v1/anomalies": async (p) => ({ body: q.anomalies(anomalyOptionsFrom(p)) }),
    "/v1/reconciliation": async (p) => ({ body: await q.reconcile(p("tx")?.split(",").map(parseTxId)) }),
  };
}

/** The request handler: authenticate, route, answer JSON or CSV; every refusal is `{ error: { code, message } }`. */
export function createAuditorHandler(o: AuditorApiOptions): AuditorHandler {
  const log = o.logger ?? silentLogger();
  const table = routes(o.queries);
  const prefix = o.prefix ?? "";
  return (req, res) => {
    void handle(req, res).catch((error: unknown) => {
      const known = error instanceof AuditorError;
      const status = known ? (STATUS[error.code] ?? 500) : 500;
      if (status >= 500) log.error({ err: error, url: req.url }, "auditor API request failed");
      if (!res.headersSent)
        sendError(res, status, known ? error.code : "INTERNAL", known ? error.message : "internal error");
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://auditor.invalid");
    if (req.method !== "GET")
      return sendError(res, 405, "METHOD_NOT_ALLOWED", "the auditor API is read-only: GET only");
    // Authenticate before anything is looked up, so that nothing is revealed to an unsigned request.
    const who = await o.auth.verify(req.method, url, req.headers);
    const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : url.pathname;
    const base = Object.keys(table).find((r) => path === r || path.startsWith(`${r}/`));
    if (base === undefined) return sendError(res, 404, "NOT_FOUND", `no route GET ${url.pathname}`);
    const rest = decodeURIComponent(path.slice(base.length).replace(/^\//, ""));
    const params: Params = (name) => url.searchParams.get(name) ?? undefined;
    const answer = await table[base]!(params, rest, url);
    log.info({ auditor: who.account, institution: who.institution, path: url.pathname }, "auditor query");
    if (answer.csv !== undefined) {
      res.writeHead(200, {
        "content-type": "text/csv; charset=utf-8",
        "content-length": Buffer.byteLength(answer.csv),
      });
      res.end(answer.csv);
    } else sendJson(res, 200, answer.body);
  }
}

export interface StartedAuditorApi {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Runs the handler on its own HTTP listener (bind it to a private interface, or put TLS in front). */
export async function startAuditorApi(
  o: AuditorApiOptions & { port: number; host?: string },
): Promise<StartedAuditorApi> {
  const server = createServer(createAuditorHandler(o));
  const host = o.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    close: async () => {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
