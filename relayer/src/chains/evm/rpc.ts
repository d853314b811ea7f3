/**
 * JSON-RPC over HTTP(S) with kept-alive connections (node:http), and a viem transport over it. viem's own `http`
 * transport goes through `fetch` (undici), which costs about ten times the CPU per call; a relayer makes tens of
 * calls per cross-chain transaction on a machine it shares with its nodes, so that cost is its throughput.
 * Errors are viem's own (`RpcRequestError`, `HttpRequestError`, `TimeoutError`), so viem maps and decodes them
 * exactly as it does for its `http` transport (reverts keep their data).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { HttpRequestError, RpcRequestError, TimeoutError, custom, type Transport } from "viem";
import type { Logger } from "../../../../lib/infra/log";
import { NewHeads } from "./heads";

export interface RpcCall {
  method: string;
  params?: unknown;
}

interface RpcResponse {
  id?: number;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export interface JsonRpcHttpOptions {
  timeoutMs?: number;
  /** Connections kept open to the node (default 16). */
  maxSockets?: number;
}

/**
 * CCGP_RPC_CALLS_BY_SELECTOR=1: `eth_call` is counted by the called function's selector (`eth_call 0x...`), to see
 * which reads a relayer makes (the e2e bench names them).
 */
const BY_SELECTOR = process.env.CCGP_RPC_CALLS_BY_SELECTOR === "1";

function selectorOf(params: unknown): string {
  const data = (params as Array<{ data?: string; input?: string }> | undefined)?.[0];
  return (data?.data ?? data?.input ?? "0x").slice(0, 10);
}

/** Calls of one event-loop turn sent in one HTTP request, at most (more go in several). */
export const MAX_BATCH = 100;

/** One node's JSON-RPC endpoint. */
export class JsonRpcHttp {
  private readonly _url: URL;
  private readonly _agent: HttpAgent;
  private readonly _send: typeof httpRequest;
  private readonly _timeoutMs: number;
  private _id = 0;
  /** Calls made in this turn of the event loop, sent together (one HTTP request) at its end. */
  private _queued: Array<{ call: RpcCall; resolve: (value: unknown) => void; reject: (error: unknown) => void }> = [];
  /** HTTP requests sent (a batch counts once), for metrics and for tests that count them. */
  requests = 0;
  /** JSON-RPC calls made, by method (each call of a batch counts): `ccgp_rpc_calls_total`. */
  readonly calls = new Map<string, number>();

  constructor(
    readonly url: string,
    options: JsonRpcHttpOptions = {},
  ) {
    this._url = new URL(url);
    const https = this._url.protocol === "https:";
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 16 };
    this._agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this._send = https ? (httpsRequest as typeof httpRequest) : httpRequest;
    this._timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * One call; a JSON-RPC error is thrown as viem's `RpcRequestError`. Calls made in the same turn of the event loop
   * (e.g. reads under one `Promise.all`) go out as one batch.
   */
  request(method: string, params: unknown = []): Promise<unknown> {
    this.count(BY_SELECTOR && method === "eth_call" ? `eth_call ${selectorOf(params)}` : method);
    return new Promise((resolve, reject) => {
      if (this._queued.length === 0) setImmediate(() => void this._flush());
      this._queued.push({ call: { method, params }, resolve, reject });
    });
  }

  private async _flush(): Promise<void> {
    const queued = this._queued;
    this._queued = [];
    if (queued.length === 1) {
      const { call, resolve, reject } = queued[0]!;
      return this._alone(call.method, call.params ?? []).then(resolve, reject);
    }
    // Nodes bound a batch (geth: 1,000 calls, 25 MB of answer): a burst goes out as several, concurrently.
    const chunks = [];
    for (let i = 0; i < queued.length; i += MAX_BATCH) chunks.push(queued.slice(i, i + MAX_BATCH));
    await Promise.all(
      chunks.map(async (chunk) => {
        try {
          const answers = await this._batch(chunk.map((q) => q.call));
          chunk.forEach((q, i) => (answers[i] instanceof Error ? q.reject(answers[i]) : q.resolve(answers[i])));
        } catch (error) {
          chunk.forEach((q) => q.reject(error));
        }
      }),
    );
  }

  /**
   * Several calls in one HTTP request (a JSON-RPC batch), answered in order. Each answer is its result, or the call's
   * `RpcRequestError` (not thrown: the caller decides). Transport faults reject the whole batch.
   */
  batch(calls: readonly RpcCall[]): Promise<unknown[]> {
    for (const c of calls) this.count(c.method);
    return this._batch(calls);
  }

  /**
   * One call in an HTTP request of its own, never batched with others: for a call the node answers late (a
   * synchronous send answers once the transaction is mined), which would hold up the calls batched with it.
   */
  alone(method: string, params: unknown = []): Promise<unknown> {
    this.count(method);
    return this._alone(method, params);
  }

  private async _alone(method: string, params: unknown): Promise<unknown> {
    const body = { jsonrpc: "2.0", id: ++this._id, method, params };
    const response = (await this._post(body)) as RpcResponse;
    if (response.error !== undefined) throw new RpcRequestError({ body, error: response.error, url: this.url });
    return response.result;
  }

  /** Counts one call of `method` (the WebSocket subscription counts here too). */
  count(method: string): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
  }

  private async _batch(calls: readonly RpcCall[]): Promise<unknown[]> {
    if (calls.length === 0) return [];
    const body = calls.map((c) => ({ jsonrpc: "2.0", id: ++this._id, method: c.method, params: c.params ?? [] }));
    const answer = await this._post(body);
    if (!Array.isArray(answer))
      throw new HttpRequestError({
        body,
        url: this.url,
        details: `batch answered with ${JSON.stringify(answer).slice(0, 200)}`,
      });
    const byId = new Map((answer as RpcResponse[]).map((r) => [r.id, r]));
    return body.map((b) => {
      const r = byId.get(b.id);
      if (r === undefined)
        return new RpcRequestError({
          body: b,
          error: { code: -32603, message: "no answer in the batch" },
          url: this.url,
        });
      return r.error === undefined ? r.result : new RpcRequestError({ body: b, error: r.error, url: this.url });
    });
  }

  close(): void {
    this._agent.destroy();
  }

  private _post(body: Record<string, unknown> | Array<Record<string, unknown>>): Promise<unknown> {
    const payload = JSON.stringify(body);
    this.requests += 1;
    return new Promise((resolve, reject) => {
      const req = this._send(
        this._url,
        {
          method: "POST",
          agent: this._agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
          timeout: this._timeoutMs,
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", (error) =>
            reject(new HttpRequestError({ body, url: this.url, cause: error, details: error.message })),
          );
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            try {
              const parsed: unknown = JSON.parse(text);
              if ((res.statusCode ?? 0) >= 400 && (parsed as RpcResponse | null)?.error === undefined)
                throw new Error(text.slice(0, 200));
              resolve(parsed);
            } catch {
              reject(
                new HttpRequestError({ body, url: this.url, status: res.statusCode, details: text.slice(0, 200) }),
              );
            }
          });
        },
      );
      req.on("timeout", () => {
        req.destroy();
        reject(new TimeoutError({ body, url: this.url }));
      });
      req.on("error", (error) =>
        reject(new HttpRequestError({ body, url: this.url, cause: error, details: error.message })),
      );
      req.end(payload);
    });
  }
}

/**
 * One `JsonRpcHttp` per node URL for a whole relayer: the chain plugin, its log readers and anything else that talks
 * to the same node share its kept-alive connections, and calls made in the same turn go out as one batch whoever
 * made them.
 */
export class RpcPools {
  private readonly _pools = new Map<string, { name: string; rpc: JsonRpcHttp }>();
  private readonly _heads = new Map<string, NewHeads>();

  constructor(private readonly _options: JsonRpcHttpOptions = {}) {}

  /** The connection to `url`; `name` (the chain's name in the config) labels its metrics, first come. */
  get(url: string, name: string): JsonRpcHttp {
    let pool = this._pools.get(url);
    if (pool === undefined) this._pools.set(url, (pool = { name, rpc: new JsonRpcHttp(url, this._options) }));
    return pool.rpc;
  }

  /** The heads `wsUrl` pushes, shared by every follower of that node; the subscription counts as a call of `rpc`. */
  heads(wsUrl: string, rpc: JsonRpcHttp, log: Logger): NewHeads {
    let heads = this._heads.get(wsUrl);
    if (heads === undefined) this._heads.set(wsUrl, (heads = new NewHeads(wsUrl, (m) => rpc.count(m), log)));
    return heads;
  }

  /** Calls made so far, by chain and method. */
  *calls(): Iterable<{ chain: string; method: string; count: number }> {
    for (const { name, rpc } of this._pools.values())
      for (const [method, count] of rpc.calls) yield { chain: name, method, count };
  }

  close(): void {
    for (const { rpc } of this._pools.values()) rpc.close();
  }
}

/** A viem transport over `rpc` (viem keeps its retries for transport faults). */
export function rpcTransport(rpc: JsonRpcHttp, options: { retryCount?: number } = {}): Transport {
  return custom(
    { request: ({ method, params }: { method: string; params?: unknown }) => rpc.request(method, params) },
    { key: "ccgp-http", name: "CCGP HTTP JSON-RPC", retryCount: options.retryCount ?? 1 },
  );
}

/**
 * Resolves once the JSON-RPC calls started so far (their queuing included, which viem does in microtasks) have been
 * sent: batches go out on `setImmediate`, and this resumes on the one after. Await it before CPU-heavy work (signature
 * checks) so the reads' round trips overlap it instead of following it.
 */
export function afterQueuedCalls(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
