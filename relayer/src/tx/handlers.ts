/**
 * The work item types of the transaction driver, how long their transient faults are retried, and what happens when
 * one fails finally. A peer or a node that refuses connections or restarts is a transient fault: the work of a
 * transaction is retried until its packet's deadline (steps and results a while past it, to find out what ran and
 * undo it), never handed to a person for that. A transaction past its deadline expires (the reconciler) and its
 * completed writes are compensated; one still within it whose work is refused for good goes to manual intervention
 * (`escalate`, by this relayer as a proxy of the pipe).
 */
import type { Hex } from "viem";
import type { OutboxItem } from "../store";
import { isWorkOf, txOf, work, workOf, type Role, type WorkOf, type WorkType } from "../work/items";
import { handleChainRequest } from "./chain-request";
import { deliver, openTx } from "./initiator";
import type { TxContext } from "./context";
import { compensate, ledgerWrite, verify } from "./settle";
import { recordStep, runStep, undoStep } from "./steps";
import { commitStep } from "./two-phase";
import { GiveUp, type WorkOutcome } from "./worker";

/** Item types whose final failure leaves an open transaction stuck: these escalate. */
const ESCALATE_ON_FAILURE = new Set<WorkType>(["step", "record", "deliver", "compensate", "undo", "commit"]);
/** Work that must not happen after the deadline: retried until it. */
const UNTIL_DEADLINE = new Set<WorkType>(["open", "deliver"]);
/**
 * Work that may have run before its fault (a step sent, a result written) or that settles a transaction: retried a
 * window past the deadline too, since the handler's next run reads the chain, records what ran, or undoes a write
 * the ledger no longer takes.
 */
const PAST_DEADLINE = new Set<WorkType>(["step", "record", "verify"]);

/** A handler of one kind of item, given the item typed (its stored shape checked, see `isWorkItem`). */
function typed<T extends WorkType>(
  type: T,
  run: (work: WorkOf<T>, item: OutboxItem) => Promise<WorkOutcome>,
): (item: OutboxItem) => Promise<WorkOutcome> {
  return (item) => {
    const stored = workOf(item);
    if (stored === null || !isWorkOf(stored, type))
      throw new GiveUp("WORK_MALFORMED", `work item ${item.id} is not a well-formed "${type}" item`, { type });
    return run(stored, item);
  };
}

export function registerHandlers(rt: TxContext): void {
  rt.worker
    .handle(
      "open",
      typed("open", (w) => openTx(rt, w)),
    )
    .handle(
      "step",
      typed("step", (w, item) => runStep(rt, w, item)),
    )
    .handle(
      "record",
      typed("record", (w) => recordStep(rt, w)),
    )
    .handle(
      "deliver",
      typed("deliver", (w, item) => deliver(rt, w, item.attempts)),
    )
    .handle(
      "undo",
      typed("undo", (w) => undoStep(rt, w)),
    )
    .handle(
      "compensate",
      typed("compensate", (w) => compensate(rt, w)),
    )
    .handle(
      "commit",
      typed("commit", (w) => commitStep(rt, w)),
    )
    .handle(
      "verify",
      typed("verify", (w) => verify(rt, w)),
    )
    .handle(
      "ledger",
      typed("ledger", (w) => ledgerWrite(rt, w)),
    )
    .handle(
      "chain-request",
      typed("chain-request", (w) => handleChainRequest(rt, w)),
    )
    .retryUntil((item) => retryUntil(rt, item))
    .onGiveUp((item, error) => escalate(rt, item, error));
}

/** The deadline (ms) of the transaction an item belongs to, as its packet says; `null` for other items. */
function deadlineOf(rt: Pick<TxContext, "journal">, tx: { txId: Hex; role?: Role } | null): number | null {
  if (tx === null) return null;
  const entry = tx.role === undefined ? rt.journal.find(tx.txId)[0] : rt.journal.get(tx.txId, tx.role);
  return entry === undefined || entry === null ? null : Number(entry.signed.packet.deadline) * 1000;
}

/**
 * Until when an item's transient faults are retried: a transaction's work until its deadline (steps, results and
 * endorsements a window past it); compensations, ledger writes and chain requests a window from their creation.
 */
export function retryUntil(rt: Pick<TxContext, "config" | "journal">, item: OutboxItem): number | null {
  const stored = workOf(item);
  if (stored === null) return null;
  const windowMs = rt.config.runtime.retry.windowSeconds * 1000;
  if (UNTIL_DEADLINE.has(stored.type) || PAST_DEADLINE.has(stored.type)) {
    const deadline = deadlineOf(rt, txOf(stored));
    if (deadline !== null) return UNTIL_DEADLINE.has(stored.type) ? deadline : deadline + windowMs;
  }
  return item.createdAt + windowMs;
}

function escalate(
  rt: Pick<TxContext, "clock" | "journal" | "log" | "store" | "worker">,
  item: OutboxItem,
  error: unknown,
): void {
  const stored = workOf(item);
  const tx = stored === null ? null : txOf(stored);
  if (stored === null || tx === null) return;
  const message = error instanceof Error ? error.message : String(error);
  if (stored.type === "open") {
    // Never opened: nothing to hand over, but later sequences of the pipe must not wait for it.
    const entry = rt.journal.get(tx.txId, "initiator");
    if (entry !== null && entry.status === "accepted")
      rt.journal.update(tx.txId, "initiator", { status: "failed", error: `not opened: ${message}`.slice(0, 500) });
    return;
  }
  if (!ESCALATE_ON_FAILURE.has(stored.type)) return;
  const deadline = deadlineOf(rt, tx);
  if (deadline !== null && rt.clock() > deadline) {
    // Past the deadline the ledger takes no escalation: the reconciler expires the transaction, then compensates.
    rt.log.warn(
      { txId: tx.txId, type: stored.type, err: error },
      "work item given up past the deadline; the transaction expires",
    );
    return;
  }
  const reason = `${stored.type} failed after ${item.attempts} attempt(s): ${message}`.slice(0, 200);
  rt.log.error({ txId: tx.txId, reason }, "handing the transaction to manual intervention");
  for (const entry of rt.journal.find(tx.txId)) rt.journal.update(entry.txId, entry.role, { error: reason });
  rt.store.enqueue(work.escalate(tx.txId, reason));
  rt.worker.kick();
}
