/**
 * The console's HTTP server: the built page (console/dist), a read-only JSON API over the chain and the auditor
 * index, server-sent events for live updates, and a pass-through of signed requests to the auditor API. It holds
 * no key and signs nothing: every write is made by the visitor's own wallet, against the contracts.
 *
 *   GET /api/meta                  chain id, contract addresses and ABIs (for the wallet's calls and error names)
 *   GET /api/overview              head, services and heartbeats, relayer health, index checkpoint
 *   GET /api/institutions          institutions and accounts
 *   GET /api/proposals             every proposal with its ballots, rule and time left
 *   GET /api/topology              sub-chains, apps, contracts, pipes
 *   GET /api/transactions?...      the ledger (the auditor's list filters), newest first; `hasMore` for paging
 *   GET /api/transactions/<txId>   one transaction's trace, each sub-chain receipt checked
 *   GET /api/attention             pending, failed, Manual, and the compensation queue
 *   GET /api/credit                scores and their history
 *   GET /api/live                  server-sent events: `block`, `index`
 *   GET /auditor/...               forwarded as is (with its signature headers) to the auditor API
 */
import { createReadStream, existsSync, statSync } from "node:fs";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve } from "node:path";
import { createPublicClient, http, type PublicClient } from "viem";
import { sendError, sendJson } from "../../lib/infra/http";
import { AuditorError, AuditorErrorCode } from "../../auditor/src/errors";
import { listFilterFrom, type Params } from "../../auditor/src/params";
import { AuditorQueries } from "../../auditor/src/queries";
import { SubchainReader } from "../../auditor/src/receipts";
import { IndexStore } from "../../auditor/src/store";
import { parseTxId } from "../../auditor/src/trace";
import { parseState } from "../../auditor/src/names";
import { ChainReader } from "./chain";
import type { ConsoleConfig } from "./config";

/** Where `npm run console:build` puts the page. */
export const DIST_DIR = resolve(__dirname, "..", "dist");
/** How often the server asks the governance chain for its head: the bound on a block's delay to the page. */
const HEAD_POLL_MS = 100;
const PAGE_SIZE = 50;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
};

export interface ConsoleServerOptions {
  config: ConsoleConfig;
  port?: number;
  host?: string;
  /** The built page; default console/dist. */
  staticDir?: string;
}

export interface ConsoleServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

type Handler = (p: Params, rest: string) => Promise<unknown>;

/** Starts the console on `host:port` (127.0.0.1, a free port by default). */
export async function startConsoleServer(o: ConsoleServerOptions): Promise<ConsoleServer> {
  const staticDir = o.staticDir ?? DIST_DIR;
  if (!existsSync(join(staticDir, "index.html")))
    throw new Error(`the console page is not built (${staticDir}/index.html): run \`npm run console:build\``);
  const store = await openIndex(o.config.indexDb);
  const clients = new Map<number, PublicClient>(
    o.config.subchains.map((s) => [
      s.chainId,
      createPublicClient({ transport: http(s.url, { timeout: 10_000 }) }) as PublicClient,
    ]),
  );
  const queries = new AuditorQueries({ store, reader: new SubchainReader(clients) });
  const chain = new ChainReader(o.config, queries);
  const live = new Live(chain, queries);
  const api = routes(o.config, chain, queries);

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      const known = error instanceof AuditorError;
      const status = known
        ? error.code === AuditorErrorCode.UnknownTx
          ? 404
          : error.code === AuditorErrorCode.BadInput
            ? 400
            : 502
        : 500;
      if (!res.headersSent) sendError(res, status, known ? error.code : "INTERNAL", (error as Error).message);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://console.invalid");
    if (url.pathname.startsWith("/auditor/")) return forwardToAuditor(o.config.auditorApi, req, res);
    if (req.method !== "GET")
      return sendError(
        res,
        405,
        "METHOD_NOT_ALLOWED",
        "the console's server is read-only: writes go from your wallet to the contracts",
      );
    if (url.pathname === "/api/live") return live.subscribe(req, res);
    if (url.pathname.startsWith("/api/")) {
      const path = url.pathname.slice(4);
      const base = Object.keys(api).find((r) => path === r || path.startsWith(`${r}/`));
      if (base === undefined) return sendError(res, 404, "NOT_FOUND", `no route GET ${url.pathname}`);
      const rest = decodeURIComponent(path.slice(base.length).replace(/^\//, ""));
      return sendJson(res, 200, await api[base]!((n) => url.searchParams.get(n) ?? undefined, rest), {
        "cache-control": "no-store",
      });
    }
    serveStatic(staticDir, url.pathname, res);
  }

  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(o.port ?? 0, o.host ?? "127.0.0.1", () => ok());
  });
  live.start();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host ?? "127.0.0.1"}:${port}`,
    server,
    close: async () => {
      live.stop();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
      store.close();
    },
  };
}

/** The index may not exist yet while its relayer starts: wait for it a little, then name it. */
async function openIndex(path: string): Promise<IndexStore> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return IndexStore.open({ path, readonly: true });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function routes(config: ConsoleConfig, chain: ChainReader, q: AuditorQueries): Record<string, Handler> {
  const now = async () => (await chain.head()).timestamp;
  return {
    "/meta": async () => ({
      chainId: config.governance.chainId,
      contracts: config.governance.contracts,
      abis: chain.abis,
      subchains: config.subchains.map((s) => ({ chainId: s.chainId, name: s.name })),
      auditorApi: config.auditorApi === null ? null : new URL(config.auditorApi).pathname,
    }),
    "/overview": async () => {
      const head = await chain.head();
      const [services, relayers] = await Promise.all([
        chain.services(head.timestamp),
        Promise.all(config.relayers.map(health)),
      ]);
      return { head, services, relayers, index: q.status() };
    },
    "/institutions": async () => {
      const [institutions, accounts] = await Promise.all([chain.institutions(), chain.accounts()]);
      return { institutions, accounts };
    },
    "/proposals": async () => chain.proposals(await now()),
    "/topology": async () => chain.topology(),
    "/transactions": async (p, rest) => {
      if (rest !== "") return q.trace(parseTxId(rest), { receipts: true });
      const f = listFilterFrom(p);
      const limit = f.limit ?? PAGE_SIZE;
      const rows = q.transactions({ ...f, limit: limit + 1, newestFirst: true });
      return { rows: rows.slice(0, limit), hasMore: rows.length > limit, offset: f.offset ?? 0, limit };
    },
    "/attention": async () => {
      const of = (...states: string[]) =>
        q.transactions({ states: states.map(parseState), limit: 500, newestFirst: true });
      const failed = of("Failed", "Expired");
      return {
        pending: of("Open", "Executing", "Executed"),
        failed,
        manual: of("Manual"),
        compensation: [...of("Compensating"), ...failed.filter((t) => t.writesInEffect.length > 0)],
      };
    },
    "/credit": async () => {
      const events = [...q.events({ contract: "credit", limit: 100_000 })].reverse().slice(0, 500);
      return {
        institutions: await chain.institutions(),
        history: events.map((e) => ({
          block: e.block,
          timestamp: e.timestamp,
          event: e.event,
          args: e.args,
          txHash: e.txHash,
        })),
      };
    },
  };
}

/** A relayer's `/health` answer (its operator publishes the URL), or why there is none. */
async function health(r: { name: string; healthUrl: string }) {
  try {
    const res = await fetch(r.healthUrl, { signal: AbortSignal.timeout(2_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text
    }
    return { name: r.name, url: r.healthUrl, ok: res.status === 200, status: res.status, body };
  } catch (error) {
    return { name: r.name, url: r.healthUrl, ok: false, status: 0, body: (error as Error).message };
  }
}

function serveStatic(dir: string, pathname: string, res: ServerResponse): void {
  const root = resolve(dir);
  let file = normalize(join(root, decodeURIComponent(pathname)));
  // Every route of the single-page app gets index.html; nothing outside the build directory is served.
  if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) file = join(root, "index.html");
  const immutable = file.includes(`${join(root, "assets")}`);
  res.writeHead(200, {
    "content-type": TYPES[extname(file)] ?? "application/octet-stream",
    "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    "x-content-type-options": "nosniff",
  });
  createReadStream(file).pipe(res);
}

/** Passes a signed auditor request through unchanged: the auditor API checks the signature and the role. */
function forwardToAuditor(base: string | null, req: IncomingMessage, res: ServerResponse): void {
  if (base === null) return sendError(res, 404, "NO_AUDITOR_API", "this console was started without an auditor API");
  const upstream = new URL(base);
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith("x-ccgp-")));
  const out = httpRequest(
    { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers, agent: false },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, { "content-type": answer.headers["content-type"] ?? "application/json" });
      answer.pipe(res);
    },
  );
  out.on("error", (error) =>
    sendError(res, 502, "AUDITOR_UNREACHABLE", `the auditor API ${base} did not answer: ${error.message}`),
  );
  out.end();
}

/** Server-sent events: every new head of the governance chain, and every move of the index's checkpoint. */
class Live {
  private readonly _clients = new Set<ServerResponse>();
  private _timer: NodeJS.Timeout | undefined;
  private _head = -1;
  private _indexed = -1;
  private _busy = false;
  private _lastBlock: string | null = null;

  constructor(
    private readonly _chain: ChainReader,
    private readonly _q: AuditorQueries,
  ) {}

  subscribe(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    res.write("retry: 1000\n\n");
    // A new page shows the head at once, not at the next block.
    if (this._lastBlock !== null) res.write(this._lastBlock);
    this._clients.add(res);
    req.on("close", () => this._clients.delete(res));
  }

  start(): void {
    this._timer = setInterval(() => void this._tick(), HEAD_POLL_MS);
  }

  stop(): void {
    clearInterval(this._timer);
    for (const c of this._clients) c.end();
    this._clients.clear();
  }

  private _send(event: string, data: unknown): void {
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    if (event === "block") this._lastBlock = text;
    for (const c of this._clients) c.write(text);
  }

  private async _tick(): Promise<void> {
    if (this._busy) return;
    this._busy = true;
    try {
      const number = Number(await this._chain.client.getBlockNumber({ cacheTime: 0 }));
      if (number !== this._head) {
        this._head = number;
        const block = await this._chain.client.getBlock({ blockNumber: BigInt(number) });
        this._send("block", { number, timestamp: Number(block.timestamp), at: Date.now() });
      }
      const checkpoint = this._q.store.checkpoint();
      if (checkpoint !== null && checkpoint.height !== this._indexed) {
        const from = this._indexed;
        this._indexed = checkpoint.height;
        const changed =
          from < 0
            ? []
            : this._q.store.db
                .prepare("SELECT DISTINCT contract FROM events WHERE block > ?")
                .all(from)
                .map((r) => (r as { contract: string }).contract);
        this._send("index", { height: checkpoint.height, changed });
      }
    } catch {
      // the chain or the index is briefly unavailable: the next tick tries again
    } finally {
      this._busy = false;
    }
  }
}
