/**
 * The operator-facing edges of the relayer: request bodies refused by size whatever their framing (a chunked body
 * has no length to refuse up front), and logs a person can read: one line an error without its request body, the same
 * fault repeated logged once and then counted, readable lines on a terminal.
 */
import { expect } from "chai";
import { request, createServer, type Server } from "node:http";
import { Writable } from "node:stream";
import { HttpRequestError } from "viem";
import { CcgpError } from "../../../lib/infra/errors";
import { createLogger, errorLine, prettyLine } from "../../../lib/infra/log";
import { readBody, sendError, sendJson, STATUS_BY_CODE } from "../../../lib/infra/http";

const LIMIT = 1024;

/** A server that reads each body with `readBody` and answers as the intake does. */
function server(): Promise<{ url: URL; srv: Server }> {
  const srv = createServer((req, res) => {
    readBody(req, LIMIT).then(
      (body) => sendJson(res, 200, { bytes: body.length }),
      (err: unknown) => {
        const code = err instanceof CcgpError ? err.code : "INTERNAL";
        sendError(res, STATUS_BY_CODE[code] ?? 500, code, (err as Error).message);
      },
    );
  });
  return new Promise((resolve) =>
    srv.listen(0, "127.0.0.1", () =>
      resolve({ url: new URL(`http://127.0.0.1:${(srv.address() as { port: number }).port}/`), srv }),
    ),
  );
}

/** Posts `chunks` as a chunked body (no content-length), `pauseMs` between chunks; resolves with the answer. */
function postChunked(
  url: URL,
  chunks: number,
  size: number,
  pauseMs = 5,
): Promise<{ status: number; body: string; connection?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
    });
    req.on("error", reject);
    let sent = 0;
    const next = () => {
      if (sent++ >= chunks) return req.end();
      // The server may have answered and closed meanwhile: stop writing then, as a real client would.
      if (req.destroyed || req.writableEnded) return;
      req.write("x".repeat(size), () => setTimeout(next, pauseMs));
    };
    next();
  });
}

describe("relayer HTTP bodies and logs", () => {
  let srv: Server;
  let url: URL;
  before(async () => ({ url, srv } = await server()));
  after(() => srv.close());

  it("a chunked body over the limit gets 413 PAYLOAD_TOO_LARGE and the connection is closed, not dropped unanswered", async () => {
    const answer = await postChunked(url, 64, 256);
    expect(answer.status).to.equal(413);
    expect(JSON.parse(answer.body).error.code).to.equal("PAYLOAD_TOO_LARGE");
    expect(answer.connection).to.equal("close");
  });

  it("a chunked body within the limit is read whole, and the connection is kept", async () => {
    const answer = await postChunked(url, 3, 256);
    expect([answer.status, JSON.parse(answer.body).bytes]).to.deep.equal([200, 768]);
    expect(answer.connection).not.to.equal("close");
  });

  it("an error is one line: viem's short message once, its details, the root cause's code; never the request body", () => {
    const cause = Object.assign(new Error("fetch failed"), {
      cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
    });
    const err = new HttpRequestError({
      url: "http://127.0.0.1:1",
      body: { method: "eth_getLogs", params: ["secret-ish"] },
      details: "fetch failed",
      cause,
    });
    expect(err.message).to.include("Request body");
    expect(errorLine(err)).to.equal("HTTP request failed: fetch failed: ECONNREFUSED");
    const doubled = new HttpRequestError({ url: "http://x", details: "HTTP request failed." });
    expect(errorLine(doubled)).to.equal("HTTP request failed");
    // The relayer's own errors carry `details` as a record: the message alone.
    expect(errorLine(new CcgpError("KEYSTORE_PASSWORD_MISSING", "variable X is not set", { variable: "X" }))).to.equal(
      "variable X is not set",
    );
  });

  function capture(level: "info" | "debug", repeatWindowMs = 60_000) {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split("\n").filter(Boolean))
          lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    return { log: createLogger({ level, destination, format: "json", repeatWindowMs }), lines };
  }

  const tick = () => new Promise((r) => setTimeout(r, 20));

  it("logs no request body and no stack at info; the stack at debug", async () => {
    const err = new HttpRequestError({
      url: "http://127.0.0.1:1",
      body: { method: "eth_blockNumber" },
      details: "fetch failed",
    });
    const info = capture("info");
    info.log.warn({ err }, "poll failed");
    await tick();
    expect(JSON.stringify(info.lines)).not.to.match(/Request body|eth_blockNumber|stack/);
    expect(info.lines[0]!.err).to.deep.include({
      type: "HttpRequestError",
      message: "HTTP request failed: fetch failed",
    });
    const debug = capture("debug");
    debug.log.warn({ err }, "poll failed");
    await tick();
    expect(debug.lines[0]!.err).to.have.property("stack");
  });

  it("the same fault repeated is logged once, then counted in one summary line per window; another fault is logged at once", async () => {
    const { log, lines } = capture("info", 300);
    const child = log.child({ module: "governance" });
    const err = new HttpRequestError({ url: "http://127.0.0.1:1", details: "fetch failed" });
    for (let i = 0; i < 25; i++) child.warn({ err }, "governance chain poll failed; retrying");
    child.warn({ err: new Error("other") }, "governance chain poll failed; retrying");
    child.info("info lines are never counted");
    child.info("info lines are never counted");
    await new Promise((r) => setTimeout(r, 450));
    const polls = lines.filter((l) => String(l.msg).startsWith("governance chain poll failed"));
    expect(polls.map((l) => l.msg)).to.deep.equal([
      "governance chain poll failed; retrying",
      "governance chain poll failed; retrying",
      "governance chain poll failed; retrying (24 more time(s) in the last 0.3 s)",
    ]);
    expect(polls[2]).to.deep.include({ repeated: 24, module: "governance" });
    expect(lines.filter((l) => l.msg === "info lines are never counted")).to.have.length(2);
    // After a quiet window the fault is forgotten: its next occurrence is logged in full again.
    await new Promise((r) => setTimeout(r, 700));
    child.warn({ err }, "governance chain poll failed; retrying");
    await tick();
    expect(lines.at(-1)!.msg).to.equal("governance chain poll failed; retrying");
  });

  it("a readable line for a terminal: time, level, module, message, then the fields", () => {
    const line = prettyLine(
      JSON.stringify({
        level: 40,
        time: "2026-01-02T03:04:05.678Z",
        module: "tx",
        msg: "work item failed; will retry",
        err: { message: "boom: ECONNREFUSED" },
        txId: "0xab",
      }),
    );
    expect(line).to.equal('03:04:05.678 WARN  tx: work item failed; will retry  err="boom: ECONNREFUSED" txId=0xab\n');
  });
});
