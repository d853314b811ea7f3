/**
 * The work item types of the transaction driver and what happens when one fails finally: a transaction the ledger
 * has open is handed to manual intervention (`escalate`, by this relayer as a proxy of the pipe).
 */
import type { Hex } from "viem";
import { ledgerItem } from "../governance/writer";
import type { OutboxItem } from "../store";
import { handleChainRequest } from "../subchain/chain-request";
import { deliver, openTx } from "./initiator";
import type { Runtime } from "./runtime";
import { compensate, ledgerWrite, verify } from "./settle";
import { recordStep, runStep, undoStep } from "./steps";

/** Item types whose final failure leaves an open transaction stuck: these escalate. */
const ESCALATE_ON_FAILURE = new Set(["step", "record", "deliver", "compensate", "undo"]);

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
    .onGiveUp((item, error) => escalate(rt, item, error));
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
  const reason = `${payload.type} failed after ${item.attempts} attempt(s): ${message}`.slice(0, 200);
  rt.log.error({ txId: payload.txId, reason }, "handing the transaction to manual intervention");
  for (const entry of rt.journal.find(payload.txId)) rt.journal.update(entry.txId, entry.role, { error: reason });
  rt.store.enqueue(ledgerItem(`escalate:${payload.txId}`, { op: "escalate", txId: payload.txId, reason }));
  rt.worker.kick();
}
