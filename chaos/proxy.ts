/**
 * A small TCP fault proxy: listens on one port, forwards to another, and injects faults on command: delay (each chunk
 * held `delayMs`), drop (chunks swallowed), reset (every connection destroyed with RST), and cut (new connections
 * refused and open ones reset, until healed). Delay and drop act on one direction or both: the caller's bytes (`up`,
 * its requests) or the answers back (`down`: the callee's answers to the caller, e.g. a receiver's countersigned answer
 * to the initiator), so a request can get through and run while its answer is lost. TLS passes through untouched, so it
 * sits between two relayers' mutual TLS as well as between a relayer and its node.
 */
import { createServer, Socket, type Server } from "node:net";

export type ProxyMode = "pass" | "delay" | "drop" | "cut";
/** Which bytes a delay or a drop acts on: the caller's (`up`), the answers back to it (`down`), or both. */
export type Direction = "both" | "up" | "down";

export class FaultProxy {
  private readonly _server: Server;
  private readonly _sockets = new Set<Socket>();
  mode: ProxyMode = "pass";
  delayMs = 0;
  direction: Direction = "both";

  constructor(
    readonly listenPort: number,
    private _targetPort: number,
  ) {
    this._server = createServer((client) => this._connect(client));
  }

  /** Connections open through the proxy now (each counted once, not with its upstream side). */
  get connections(): number {
    return this._sockets.size / 2;
  }

  set targetPort(port: number) {
    this._targetPort = port;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this._server.once("error", reject);
      this._server.listen(this.listenPort, "127.0.0.1", () => resolve());
    });
  }

  /** Resets every open connection (RST), as a crashed peer or a broken link would. */
  reset(): void {
    for (const s of this._sockets) s.resetAndDestroy();
  }

  set(mode: ProxyMode, delayMs = 0, direction: Direction = "both"): void {
    this.mode = mode;
    this.delayMs = delayMs;
    this.direction = direction;
    if (mode === "cut") this.reset();
  }

  async stop(): Promise<void> {
    this.reset();
    await new Promise<void>((resolve) => this._server.close(() => resolve()));
  }

  private _connect(client: Socket): void {
    if (this.mode === "cut") return void client.resetAndDestroy();
    const upstream = new Socket();
    this._sockets.add(client).add(upstream);
    const close = (): void => {
      this._sockets.delete(client);
      this._sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
    upstream.connect(this._targetPort, "127.0.0.1");
    this._pipe(client, upstream, "up");
    this._pipe(upstream, client, "down");
  }

  private _pipe(from: Socket, to: Socket, direction: "up" | "down"): void {
    from.on("data", (chunk: Buffer) => {
      const hit = this.direction === "both" || this.direction === direction;
      if (hit && this.mode === "drop") return;
      if (hit && this.mode === "delay" && this.delayMs > 0) {
        from.pause();
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk);
          from.resume();
        }, this.delayMs);
        return;
      }
      if (!to.destroyed) to.write(chunk);
    });
  }
}
