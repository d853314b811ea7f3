/**
 * The app intake (stage 1), plain HTTP on a private interface:
 * - `POST /v1/requests`: body = the AMDP wire JSON signed by the app (`signatures.app` only), plus optional
 *   `steps` (source steps before the packet's target step; or several target steps), `salt` (binds source steps to
 *   the txId), `packets` (the app-signed packets of the target steps after the first) and `mode`
 *   (`"compensation"` or `"two-phase"`; default: the pipe's in `runtime.twoPhasePipes`, else compensation), see
 *   `lib/domain/plan.ts`.
 *   Answers 202 `{ txId, status, sequence }`, or 4xx `{ code, message }` naming the refusal (also under `error`);
 *   429 with `Retry-After` when over a rate limit or when the relayer's backlog is full (`limits.maxQueue`).
 *   A request left without an answer (a crash, a cut connection) is re-sent as it is: the same signed packet is
 *   accepted once (a second 202 if it was not journaled, 409 `DUPLICATE` if it was).
 * - `GET /v1/transactions/:txId`: this relayer's view (journal), the ledger's state of the transaction and, for a
 *   transaction this relayer initiated, the values its reads returned (`reads`, see `tx/values.ts`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Hex } from "viem";
import { parseSignedPacket, type SignedPacket } from "../../../lib/amdp";
import { CcgpError } from "../../../lib/infra/errors";
import { readBody, retryAfterHeader, sendJson } from "../../../lib/infra/http";
import { Reason, TxState } from "../../../lib/domain/ledger-types";
import { isBadInput, notReady, Refusal } from "../crosschain/refusal";
import { initiate } from "../tx/initiate";
import { assertBound, planOf, PlanError, txModeSchema, type TxMode } from "../../../lib/domain/plan";
import type { TxContext } from "../tx/context";
import { readValues } from "../tx/values";

const WIRE_SLACK_BYTES = 64 * 1024;
/** The ledger opens a transaction with at most this many packets. */
const MAX_PACKETS = 4;

export class AppIntake {
  private readonly _server: Server;

  constructor(
    private readonly _rt: TxContext,
    private readonly _options: { host: string; port: number },
  ) {
    this._server = createServer((req, res) => {
      this._handle(req, res).catch((error: unknown) => {
        this._rt.log.error({ err: error }, "intake request failed");
        if (!res.headersSent) reply(res, 500, "INTERNAL", "internal error");
      });
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
    this._rt.log.info({ host: address.address, port: address.port }, "app intake listening");
    return address;
  }

  async stop(): Promise<void> {
    if (!this._server.listening) return;
    const closed = new Promise<void>((resolve) => this._server.close(() => resolve()));
    this._server.closeAllConnections();
    await closed;
  }

  private async _handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0]!;
    if (req.method === "POST" && path === "/v1/requests") return this._request(req, res);
    const match = /^\/v1\/transactions\/(0x[0-9a-fA-F]{64})$/.exec(path);
    if (req.method === "GET" && match) return this._status(res, match[1]!.toLowerCase() as Hex);
    reply(res, 404, "NOT_FOUND", `no route ${req.method} ${path}`);
  }

  private async _request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rt = this._rt;
    let signed: SignedPacket | undefined;
    let release: (() => void) | undefined;
    try {
      // Back-pressure first: with the backlog full the request is refused (429, Retry-After) before its body is read.
      release = rt.backlog.admit();
      const body = await readBody(req, (rt.config.limits.maxPayloadBytes * 2 + WIRE_SLACK_BYTES) * MAX_PACKETS);
      const request = parseRequest(body, rt.config.limits.maxPayloadBytes);
      signed = request.signed;
      const { steps, salt, more } = request;
      // The request's mode, else the pipe's default in this relayer's config; the app binds it with its steps.
      const twoPhasePipe = rt.config.runtime.twoPhasePipes.includes(signed.packet.pipeId.toLowerCase());
      const mode = request.mode ?? (twoPhasePipe ? "two-phase" : "compensation");
      const plan = planOf(signed.packet, signed.payload, steps, more, mode);
      assertBound(plan, signed.packet.txId, salt);
      const accepted = await initiate(rt, signed, plan, "app", more);
      rt.backlog.added();
      rt.log.debug({ txId: accepted.txId }, "request accepted");
      sendJson(res, 202, { txId: accepted.txId, status: accepted.status, sequence: accepted.sequence.toString() });
    } catch (error) {
      if (!isBadInput(error)) {
        rt.log.warn({ err: error }, "app request not handled: not ready");
        const refusal = notReady(error);
        return reply(res, refusal.status, refusal.code, refusal.message);
      }
      const context = { source: "intake", pipeId: signed?.packet.pipeId, signer: signed?.packet.signer };
      const refusal = error instanceof Refusal ? error : rt.refusals.from(error, context);
      reply(res, refusal.status, refusal.code, refusal.message, retryAfterHeader(refusal.details));
    } finally {
      release?.();
    }
  }

  private async _status(res: ServerResponse, txId: Hex): Promise<void> {
    const rt = this._rt;
    const entries = rt.journal.find(txId);
    const tx = await rt.gov.ledger.read("transaction", [txId]);
    if (entries.length === 0 && tx.state === TxState.None)
      return reply(res, 404, "NOT_FOUND", `transaction ${txId} is unknown here and on the ledger`);
    const initiated = entries.find((e) => e.role === "initiator");
    const reads = initiated !== undefined && tx.state !== TxState.None ? await readValues(rt, initiated) : [];
    sendJson(res, 200, {
      txId,
      relayer: entries.map((e) => ({
        role: e.role,
        mode: e.mode,
        pipeId: e.pipeId,
        sequence: e.sequence.toString(),
        status: e.status,
        error: e.error,
        result: e.result,
        steps: e.plan.steps.length,
      })),
      ledger: {
        state: TxState[tx.state],
        reason: Reason[tx.reason],
        deadline: tx.deadline.toString(),
        stepCount: tx.stepCount,
        doneMask: tx.doneMask,
        writeMask: tx.writeMask,
        undoneMask: tx.undoneMask,
        weightFor: tx.weightFor,
        weightAgainst: tx.weightAgainst,
        resultSetHash: tx.resultSetHash,
      },
      reads,
    });
  }
}

/** The wire packet (stage 1 only) and the request's own fields. */
function parseRequest(
  body: Buffer,
  maxPayloadBytes: number,
): { signed: SignedPacket; steps: unknown; salt: unknown; more: SignedPacket[]; mode: TxMode | undefined } {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new CcgpError(
      "MALFORMED_PACKET",
      "the request body is not valid JSON",
      { field: "(body)" },
      { cause: error },
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new CcgpError("MALFORMED_PACKET", "the request body must be a JSON object (the AMDP wire packet)", {
      field: "(body)",
    });
  const { steps, salt, packets, mode, ...wire } = value as Record<string, unknown>;
  const parsedMode = mode === undefined ? undefined : txModeSchema.safeParse(mode);
  if (parsedMode?.success === false)
    throw new PlanError("STEPS_INVALID", '"mode" must be "compensation" or "two-phase"', { field: "mode" });
  const appSigned = (w: unknown, field: string): SignedPacket => {
    const parsed = parseSignedPacket(w, { maxPayloadBytes });
    if (parsed.signatures.proxy !== undefined)
      throw new CcgpError(
        "MALFORMED_SIGNATURE",
        "an app request carries only the app's signature (signatures.proxy is the relayer's)",
        {
          field: `${field}signatures.proxy`,
        },
      );
    return parsed;
  };
  if (packets !== undefined && (!Array.isArray(packets) || packets.length === 0 || packets.length > MAX_PACKETS - 1))
    throw new CcgpError(
      "MALFORMED_PACKET",
      `"packets" must be an array of 1 to ${MAX_PACKETS - 1} app-signed packets`,
      { field: "packets" },
    );
  const more = ((packets ?? []) as unknown[]).map((w, k) => appSigned(w, `packets.${k}.`));
  return { signed: appSigned(wire, ""), steps, salt, more, mode: parsedMode?.data };
}

function reply(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { code, message, error: { code, message } }, headers);
}
