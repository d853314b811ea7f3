/**
 * The initiator's work items: open the transaction on the ledger (before anything is sent), then, after its source
 * steps (`steps.ts`), deliver the countersigned packet to the target's proxy over mutual TLS, pinned to the
 * fingerprint the target service registered. A delivery that fails for a transient reason (the target refuses
 * connections, restarts, is busy) is retried with backoff and jitter until the packet's deadline; after it nothing is
 * sent (the target would refuse it), and the reconciler expires the transaction, which compensates its source steps.
 */
import type { Hex } from "viem";
import { toWire } from "../../../lib/amdp";
import { ContractError, isRevert } from "../governance/contract";
import type { PeerCallResult } from "../server";
import { CcgpError } from "../../../lib/infra/errors";
import { TxState } from "../../../lib/domain/ledger-types";
import { resequence } from "./chain-request";
import { ledgerSteps } from "../../../lib/domain/plan";
import { nowSeconds, type TxContext } from "./context";
import type { JournalEntry } from "./journal";
import { callRoutes } from "./routes";
import { serialised } from "./serial";
import { nextInitiatorItem } from "./steps";
import { Defer, GiveUp, type WorkOutcome } from "./worker";
import { work, type DeliverWork, type OpenWork } from "../work/items";
import type { OpenOp, WriteOutcome } from "../governance/writer";

const ACTIVE = new Set<number>([TxState.Open, TxState.Executing]);

/**
 * Opens the journaled transaction on the ledger, then starts its first step. The ledger takes a pipe's sequences only
 * in increasing order, so the opens of one pipe run one at a time, in sequence order: whoever holds the pipe's turn
 * opens every transaction of the pipe still waiting, lowest first (their own items then find them open). Nothing
 * polls, and the transactions queued behind one open are opened by it.
 */
export async function openTx(
  rt: Pick<TxContext, "apps" | "gov" | "journal" | "log" | "me" | "view" | "writer">,
  { txId }: OpenWork,
): Promise<WorkOutcome> {
  const entry = rt.journal.require(txId, "initiator");
  if (entry.status === "failed") return {};
  await serialised(`open:${entry.pipeId}`, async () => {
    const unopened = rt.journal.unopened(entry.pipeId);
    const sent = await openTogether(rt, unopened);
    for (const waiting of unopened) {
      try {
        await openOne(rt, waiting, sent.get(waiting.txId));
      } catch (error) {
        if (waiting.txId === entry.txId) throw error;
        const settled = error instanceof GiveUp || error instanceof Defer; // reported by its own item
        if (waiting.sequence < entry.sequence && !settled) throw error; // a lower one must open first: retry later
        if (waiting.sequence > entry.sequence) break; // a higher one: its own item retries
      }
    }
  });
  if (rt.journal.require(txId, "initiator").status !== "opened") return {};
  return { next: [nextInitiatorItem(entry, 0)] };
}

/**
 * The waiting opens of one pipe, when more than one waits, sent together in sequence order (one `openMany`, see
 * `LedgerWriter.openInOrder`): each one's answer by transaction id, for `openOne` to take as its own. One alone
 * goes through `openOne`'s own write, as before.
 */
async function openTogether(
  rt: Pick<TxContext, "view" | "writer">,
  unopened: JournalEntry[],
): Promise<Map<Hex, WriteOutcome | Error | undefined>> {
  const sent = new Map<Hex, WriteOutcome | Error | undefined>();
  const ready: Array<{ entry: JournalEntry; op: OpenOp }> = [];
  for (const entry of unopened) {
    if (entry.status !== "accepted") continue;
    const route = await rt.view.route(entry.pipeId);
    if (route !== undefined) ready.push({ entry, op: openOp(entry, route) });
  }
  if (ready.length < 2) return sent;
  const answers = await rt.writer.openInOrder(ready.map((r) => r.op));
  ready.forEach((r, i) => sent.set(r.entry.txId, answers[i]));
  return sent;
}

function openOp(entry: JournalEntry, route: NonNullable<Awaited<ReturnType<TxContext["view"]["route"]>>>): OpenOp {
  return {
    op: "open",
    txId: entry.txId,
    packets: [toWire(entry.signed), ...(entry.plan.packets ?? [])],
    steps: ledgerSteps(entry.plan, route),
    deadline: entry.signed.packet.deadline.toString(),
  };
}

/**
 * One `open` on the ledger (or the answer `openTogether` got for it: an outcome, or an error taken as this open's
 * own); a refusal fails the transaction for good (chain mode: a taken sequence is re-signed).
 */
async function openOne(
  rt: Pick<TxContext, "apps" | "gov" | "journal" | "log" | "me" | "view" | "writer">,
  entry: JournalEntry,
  sent?: WriteOutcome | Error,
): Promise<void> {
  if (entry.status !== "accepted") return;
  const route = await rt.view.route(entry.pipeId);
  if (route === undefined)
    throw new GiveUp("PIPE_UNKNOWN", `pipe ${entry.pipeId} vanished before opening ${entry.txId}`, {
      txId: entry.txId,
    });
  try {
    if (sent instanceof Error) throw sent;
    const outcome = sent ?? (await rt.writer.perform(openOp(entry, route)));
    rt.log.info({ txId: entry.txId, outcome: outcome.outcome }, "transaction open on the ledger");
  } catch (error) {
    if (!(error instanceof ContractError) || error.code !== "CONTRACT_REVERTED") throw error;
    if (entry.mode === "chain" && isRevert(error, "LedgerSequenceReused")) {
      await resequence(rt, entry);
      throw new Defer(`sequence of ${entry.txId} was taken meanwhile; re-signed with a fresh one`, 0);
    }
    rt.journal.update(entry.txId, "initiator", {
      status: "failed",
      error: `the ledger refused to open it: ${error.message}`,
    });
    throw new GiveUp(
      "OPEN_REFUSED",
      `the ledger refused to open ${entry.txId}: ${error.message}`,
      { txId: entry.txId },
      { cause: error },
    );
  }
  rt.journal.update(entry.txId, "initiator", { status: "opened" });
}

/**
 * One packet as its wire JSON; several (a plan with several target steps) as `{packets, versionKeys}`: the keys of
 * the dependent writes by step, which the ledger does not keep (the receiver needs them for the gateway's check).
 */
function deliveryBody(entry: JournalEntry): unknown {
  if (entry.plan.packets === undefined) return toWire(entry.signed);
  const versionKeys = Object.fromEntries(
    entry.plan.steps.flatMap((s, k) => (s.versionKey === undefined ? [] : [[String(k), s.versionKey]])),
  );
  return { packets: [toWire(entry.signed), ...entry.plan.packets], versionKeys };
}

/** Sends the countersigned packet to the target proxy; 200 (or a duplicate of the same packet) is delivered. */
export async function deliver(rt: TxContext, { txId }: DeliverWork, attempts: number): Promise<WorkOutcome> {
  const entry = rt.journal.require(txId, "initiator");
  if (nowSeconds(rt) > entry.signed.packet.deadline) {
    rt.log.warn({ txId }, "packet not delivered: past its deadline (the transaction expires)");
    return {};
  }
  // The first attempt after this relayer's own open (its receipt in hand) goes without a ledger read: the receiver
  // reads the state itself and refuses a transaction not open (retried, and read here then) or no longer active.
  const [state] =
    attempts === 0 && entry.status === "opened" ? [TxState.Open] : await rt.gov.ledger.read("statusOf", [txId]);
  if (state === TxState.None) {
    // The ledger has no such transaction, yet it was opened before this item was due: a reorg past the confirmation
    // depth undid the open. Open it again (the reorg undid its sequence too; an open mined meanwhile is found by the
    // check-first read), once, and deliver after it: until then this item waits, it is not done.
    if (entry.status === "failed") return {};
    if (entry.status !== "accepted") {
      rt.journal.update(txId, "initiator", { status: "accepted" });
      rt.store.enqueue(work.open(txId, attempts));
      rt.worker.kick();
    }
    throw new CcgpError(
      "TX_OPEN_UNDONE",
      `the open of ${txId} is no longer on the ledger (a reorg); waiting for it to be opened again`,
      {
        txId,
        retryAfterMs: 2_000,
      },
    );
  }
  if (!ACTIVE.has(state)) {
    rt.log.warn({ txId, state: TxState[state] }, "packet not delivered: the transaction is no longer active");
    return {};
  }
  const answer = await callRoutes(rt, entry.pipeId, txId, "/v1/packets", deliveryBody(entry), {
    timeoutMs: 30_000,
    retryable: retryableRefusal,
  });
  const { service: target, response } = answer;
  const body = (response.body ?? {}) as { error?: { code?: string; message?: string }; result?: unknown };
  const code = body.error?.code;
  if (response.status === 200 || (response.status === 409 && code === "DUPLICATE")) {
    rt.metrics.record({ type: "packetOut", pipeId: entry.pipeId });
    rt.log.info({ txId, status: response.status, route: target.id }, "packet delivered");
    return { commit: () => rt.journal.update(txId, "initiator", { status: "delivered", result: body.result ?? null }) };
  }
  if (code === "TX_NOT_ACTIVE") {
    rt.log.warn({ txId }, "packet not delivered: the transaction is no longer active");
    return {};
  }
  const refusal = `${code ?? ""}: ${body.error?.message ?? ""}`;
  const message = `target ${target.host}:${target.port} answered ${response.status} ${refusal}`;
  // Every route failed; the last one's answer passes with time. A reorg that undid the open is found by the next
  // attempt's ledger read above.
  if (retryableRefusal(response, answer.alternate))
    throw new CcgpError("PEER_BUSY", message, { txId, retryAfterMs: retryAfterOf(response.headers) });
  rt.journal.update(txId, "initiator", { error: message });
  throw new GiveUp("DELIVERY_REFUSED", message, { txId, status: response.status, code });
}

/**
 * A target's refusal that passes with time, so the next route is tried: busy, or its view of our certificate or of
 * the ledger (our open, which we saw mined) lags behind; for an alternate, also its view of the pipe's routes.
 */
function retryableRefusal(response: PeerCallResult, alternate: boolean): boolean {
  const code = (response.body as { error?: { code?: string } } | null)?.error?.code;
  if (response.status === 429 || response.status >= 500) return true;
  return code === "PEER_NOT_PINNED" || code === "TX_NOT_OPEN" || (alternate && code === "WRONG_SERVICE");
}

/** A `Retry-After` header (seconds) in ms; 0 without one. */
function retryAfterOf(headers: Record<string, string | string[] | undefined> | undefined): number {
  const value = Number(headers?.["retry-after"]);
  return Number.isFinite(value) && value > 0 ? Math.min(value, 600) * 1000 : 0;
}
