import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { silentLogger, type Logger } from "../../../lib/infra/log";
import type { RelayerMetrics } from "../metrics/metrics";
import { runHealthChecks, type HealthCheck } from "./health";
import { sendError, sendJson } from "../../../lib/infra/http";

export interface OpsServerOptions {
  host: string;
  port: number;
  metrics: RelayerMetrics;
  checks: Record<string, HealthCheck>;
  checkTimeoutMs?: number;
  logger?: Logger;
  /** Handlers served under a path prefix (e.g. `/auditor`), which answer every request below it themselves. */
  mounts?: Record<string, (req: IncomingMessage, res: ServerResponse) => void>;
}

/**
 * Plain-HTTP operations listener: `GET /health` (200 when every check passes, else 503, JSON report) and
 * `GET /metrics` (Prometheus text), and any mounted handler under its prefix (the auditor API). It carries no
 * business traffic; bind it to a private interface.
 */
export class OpsServer {
  private readonly _server: Server;
  private readonly _log: Logger;

  constructor(private readonly _options: OpsServerOptions) {
    this._log = _options.logger ?? silentLogger();
    this._server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      for (const [prefix, handler] of Object.entries(this._options.mounts ?? {}))
        if (path === prefix || path.startsWith(`${prefix}/`)) return handler(req, res);
      if (req.method !== "GET") return sendError(res, 405, "METHOD_NOT_ALLOWED", "only GET is served here");
      if (path === "/health")
        return void runHealthChecks(this._options.checks, this._options.checkTimeoutMs).then((report) =>
          sendJson(res, report.status === "ok" ? 200 : 503, report),
        );
      if (path === "/metrics")
        return void this._options.metrics.text().then(
          (text) => {
            res.writeHead(200, { "content-type": this._options.metrics.contentType });
            res.end(text);
          },
          (error: unknown) => {
            this._log.error({ err: error }, "metrics collection failed");
            sendError(res, 500, "INTERNAL", "metrics collection failed");
          },
        );
      sendError(res, 404, "NOT_FOUND", `no route GET ${path}`);
    });
  }

  async start(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this._server.once("error", reject);
      this._server.listen(this._options.port, this._options.host, () => {
        this._server.off("error", reject);
        resolve();
      });
    });
    const address = this._server.address() as AddressInfo;
    this._log.info({ host: address.address, port: address.port }, "ops server listening");
    return address;
  }

  async stop(): Promise<void> {
    if (!this._server.listening) return;
    const closed = new Promise<void>((resolve) => this._server.close(() => resolve()));
    this._server.closeAllConnections();
    await closed;
  }
}
