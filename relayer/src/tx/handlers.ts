/**
 * The work item types of the transaction driver, how long their transient faults are retried, and what happens when
 * one fails finally. A peer or a node that refuses connections or restarts is a transient fault: the work of a
 * transaction is retried until its packet's deadline (steps and results a while past it, to find out what ran and
 * undo it), never handed to a person for that. A transaction past its deadline expires (the reconciler) and its
 * completed writes are compensated; one still within it whose work is refused for good goes to manual intervention
 * (`escalate`, by this relayer as a proxy of the pipe).
 */
import type { Hex } from "viem";
import { ledgerItem } from "../governance/writer";
import type { OutboxItem } from "../store";
import { handleChainRequest } from "./chain-request";
import { deliver, openTx } from "./initiator";
import type { Runtime } from "./runtime";
import { compensate, ledgerWrite, verify } from "./settle";
import type { Role } from "./journal";
import { recordStep, runStep, undoStep } from "./steps";

/** Item types whose final failure leaves an open transaction stuck: these escalate. */
const ESCALATE_ON_FAILURE = new Set(["step", "record", "deliver", "compensate", "undo"]);
/** Work that must not happen after the deadline: retried until it. */
const UNTIL_DEADLINE = new Set(["open", "deliver"]);
/**
 * Work that may have run before its fault (a step sent, a result written) or that settles a transaction: retried a
 * window past the deadline too, since the handler's next run reads the chain, records what ran, or undoes a write
 * the ledger no longer takes.
 */
const PAST_DEADLINE = new Set(["step", "record", "verify"]);

const handlerTypes = new Set([
  "open",
  "step",
  "record",
  "deliver",
  "undo",
  "compensate",
  "verify",
  "ledger",
  "chain-request",
]);

export function registerHandlers(rt: Runtime): void {
  rt.worker
    .handle("open", (item) => openTx(rt, item))
    .handle("step", (item) => runStep(rt, item))
    .handle("record", (item) => recordStep(rt, item))
    .handle("deliver", (item) => deliver(rt, item))
    .handle("undo", (item) => undoStep(rt, item))
    .handle("compensate", (item) => compensate(rt, item))
    .handle("verify", (item) => verify(rt, item))
    .handle("ledger", (item) => ledgerWrite(rt, item))
    .handle("chain-request", (item) => handleChainRequest(rt, item))
    .retryUntil((item) => retryUntil(rt, item))
    .onGiveUp((item, error) => escalate(rt, item, error));
}

/** The deadline (ms) of the transaction an item belongs to, as its packet says; `null` for other items. */
function deadlineOf(rt: Runtime, item: OutboxItem): number | null {
  const payload = item.payload as { txId?: Hex; role?: Role };
  if (payload.txId === undefined) return null;
  const entry =
    payload.role === undefined ? rt.journal.find(payload.txId)[0] : rt.journal.get(payload.txId, payload.role);
  return entry === undefined || entry === null ? null : Number(entry.signed.packet.deadline) * 1000;
}

/**
 * Until when an item's transient faults are retried: a transaction's work until its deadline (steps, results and
 * endorsements a window past it); compensations, ledger writes and chain requests a window from their creation.
 */
export function retryUntil(rt: Runtime, item: OutboxItem): number | null {
  const type = (item.payload as { type?: string }).type ?? "";
  const windowMs = rt.config.runtime.retry.windowSeconds * 1000;
  if (UNTIL_DEADLINE.has(type) || PAST_DEADLINE.has(type)) {
    const deadline = deadlineOf(rt, item);
    if (deadline !== null) return UNTIL_DEADLINE.has(type) ? deadline : deadline + windowMs;
  }
  return handlerTypes.has(type) ? item.createdAt + windowMs : null;
}

function escalate(rt: Runtime, item: OutboxItem, error: unknown): void {
  const payload = item.payload as { type?: string; txId?: Hex };
  const message = error instanceof Error ? error.message : String(error);
  if (payload.type === "open" && payload.txId !== undefined) {
    // Never opened: nothing to hand over, but later sequences of the pipe must not wait for it.
    const entry = rt.journal.get(payload.txId, "initiator");
    if (entry !== null && entry.status === "accepted")
      rt.journal.update(payload.txId, "initiator", { status: "failed", error: `not opened: ${message}`.slice(0, 500) });
    return;
  }
  if (payload.txId === undefined || !ESCALATE_ON_FAILURE.has(payload.type ?? "")) return;
  const deadline = deadlineOf(rt, item);
  if (deadline !== null && rt.clock() > deadline) {
    // Past the deadline the ledger takes no escalation: the reconciler expires the transaction, then compensates.
    rt.log.warn(
      { txId: payload.txId, type: payload.type, err: error },
      "work item given up past the deadline; the transaction expires",
    );
    return;
  }
  const reason = `${payload.type} failed after ${item.attempts} attempt(s): ${message}`.slice(0, 200);
  rt.log.error({ txId: payload.txId, reason }, "handing the transaction to manual intervention");
  for (const entry of rt.journal.find(payload.txId)) rt.journal.update(entry.txId, entry.role, { error: reason });
  rt.store.enqueue(ledgerItem(`escalate:${payload.txId}`, { op: "escalate", txId: payload.txId, reason }));
  rt.worker.kick();
}
