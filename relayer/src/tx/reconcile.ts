/**
 * Watches the ledger state of every unfinished journaled transaction and enqueues what it calls for: endorsement
 * when Executed, compensation of this relayer's completed writes when Compensating (a rollback of a two-phase write),
 * the commit of its prepared two-phase writes when Committing, expiry after the deadline. It is
 * woken by the ledger's state changes the governance view follows, and also sweeps the unfinished transactions at an
 * interval, so a missed event or a restart never leaves one behind; a sweep leaves out those checked within the
 * interval (under load hundreds are unfinished, and each check is a ledger read). Item ids are per transaction and
 * step: enqueuing twice is a no-op. A governance reorg past the confirmation depth can undo a final state (a
 * confirmation's endorsement, an expiry) or a recorded step result: after one, the transactions finished within the
 * retry window are checked again, and one the ledger no longer calls final is back in view, its undone work (its
 * results' recordings included) done again.
 */
import type { Hex } from "viem";
import { sleep } from "../../../lib/chain/follow";
import { recordId, work, type WorkInput } from "../work/items";
import { Side, TxState } from "../../../lib/domain/ledger-types";
import type { JournalEntry } from "./journal";
import { commitItems } from "./two-phase";
import { nowSeconds, type TxContext } from "./context";

/** Transactions checked at once. */
const CHECK_CHUNK = 64;
const FINAL = new Set<number>([TxState.Confirmed, TxState.Compensated, TxState.Resolved]);
/**
 * States a transaction moves to that call for no reconciler work before its deadline (see {@link Reconciler.notify}).
 */
const QUIET = new Set<number>([TxState.Open, TxState.Executing, TxState.Executed]);
/**
 * An entry last seen Open, Executing or Executed before its deadline is swept this many times less often: the events
 * drive its work (the endorsement is enqueued from Executed, each later state change wakes a check), so the sweep is
 * only for a missed event. Past its deadline, or in any other state, it is swept at the interval.
 */
const QUIET_SWEEP_FACTOR = 5;
const bit = (mask: number, index: number): boolean => ((mask >> index) & 1) === 1;

export class Reconciler {
  private readonly _dirty = new Set<string>();
  /** When each unfinished entry (`txId:role`) was last checked (ms). */
  private _checkedAt = new Map<string, number>();
  /** Transactions whose last event moved them to a quiet state (Open, Executing, Executed), not read since. */
  private readonly _quiet = new Set<string>();
  private _wake: (() => void) | undefined;
  /** Set by a governance reorg: the entries finished since then (ms) are checked again at the next round. */
  private _recheckSince: number | undefined;
  /** Set by a governance reorg: the next round sweeps every unfinished entry, quiet or not. */
  private _sweepAll = false;

  constructor(
    private readonly _rt: Pick<TxContext, "clock" | "config" | "gov" | "journal" | "log" | "store" | "worker">,
    /** Every unfinished transaction is checked at least this often. */
    private readonly _sweepMs: number,
  ) {}

  /**
   * A ledger event named `txId`: check it soon. `state`, when the event says which state the transaction moved to:
   * Executed calls for the endorsement at once, before the check's ledger read (one round trip sooner).
   */
  notify(txId: Hex, state?: number): void {
    if (state === TxState.Executed && this._rt.config.runtime.verify) this._verifyNow(txId);
    // A final state calls for nothing more (no work, nothing lost to re-record): closed as a check would, unread.
    if (state !== undefined && FINAL.has(state)) return this._finish(txId, state);
    // One read per decision: a state that calls for nothing from the reconciler costs no ledger read. Open and
    // Executing call for work only past the deadline, Executed only for the endorsement enqueued just above; the
    // sweep still checks every unfinished transaction (deadlines, a missed event).
    if (state !== undefined && QUIET.has(state)) {
      // The event tells the state as a check would: the sweep takes the transaction as checked, and quiet.
      const now = this._rt.clock();
      for (const role of ["initiator", "receiver"]) this._checkedAt.set(`${txId.toLowerCase()}:${role}`, now);
      this._quiet.add(txId.toLowerCase());
      return;
    }
    this._quiet.delete(txId.toLowerCase());
    this._dirty.add(txId.toLowerCase());
    this._wake?.();
  }

  /** The governance chain reorganised past the confirmation depth: look again at what finished lately. */
  reorged(): void {
    this._recheckSince = this._rt.clock() - this._rt.config.runtime.retry.windowSeconds * 1000;
    // The reorg may have undone work of unfinished ones too (a recorded result, an endorsement): all are checked.
    this._sweepAll = true;
    this._wake?.();
  }

  /**
   * Closes the unfinished entries of a transaction an event says is final (Confirmed, Compensated, Resolved): what
   * `check` would do with the state read. A governance reorg that undoes it re-opens them (see `reorged`).
   */
  private _finish(txId: Hex, state: number): void {
    const rt = this._rt;
    const id = txId.toLowerCase();
    this._quiet.delete(id);
    const open = rt.journal.find(txId).filter((e) => e.status !== "finished" && e.status !== "failed");
    if (open.length === 0) return;
    rt.store.transaction(() => {
      for (const entry of open) rt.journal.update(entry.txId, entry.role, { ledgerState: state, status: "finished" });
    });
    for (const entry of open) {
      this._checkedAt.delete(`${id}:${entry.role}`);
      rt.log.info({ txId: entry.txId, role: entry.role, state: TxState[state] }, "ledger state");
    }
  }

  private _verifyNow(txId: Hex): void {
    const rt = this._rt;
    const entry = rt.journal.find(txId).find((e) => e.status !== "finished" && e.status !== "failed");
    if (entry !== undefined && rt.store.enqueue(work.verify(entry.txId))) rt.worker.kick();
  }

  async run(signal: AbortSignal): Promise<void> {
    let lastSweep = 0;
    while (!signal.aborted) {
      const all = this._sweepAll;
      this._sweepAll = false;
      const sweep = all || this._rt.clock() - lastSweep >= this._sweepMs;
      if (sweep) lastSweep = this._rt.clock();
      const dirty = [...this._dirty] as Hex[];
      this._dirty.clear();
      const since = this._recheckSince;
      this._recheckSince = undefined;
      const entries = [
        ...(since === undefined ? [] : this._rt.journal.finishedSince(since)),
        ...(sweep
          ? this._due(all)
          : dirty
              .flatMap((txId) => this._rt.journal.find(txId))
              .filter((e) => e.status !== "finished" && e.status !== "failed")),
      ];
      // In chunks checked together: their ledger reads go out as one JSON-RPC batch.
      for (let i = 0; i < entries.length && !signal.aborted; i += CHECK_CHUNK)
        await Promise.all(
          entries.slice(i, i + CHECK_CHUNK).map((entry) =>
            this.check(entry).catch((error: unknown) => {
              this._rt.log.warn({ err: error, txId: entry.txId }, "ledger check failed; will check again");
            }),
          ),
        );
      await this._pause(signal);
    }
  }

  /**
   * The unfinished entries not checked within the sweep interval (a quiet one's: `QUIET_SWEEP_FACTOR` times it), or
   * all of them; forgets the finished ones.
   */
  private _due(all: boolean): JournalEntry[] {
    const now = this._rt.clock();
    const seconds = nowSeconds(this._rt);
    const unfinished = this._rt.journal.unfinished();
    const checkedAt = new Map<string, number>();
    const due: JournalEntry[] = [];
    for (const entry of unfinished) {
      const key = `${entry.txId.toLowerCase()}:${entry.role}`;
      const at = this._checkedAt.get(key);
      if (at !== undefined) checkedAt.set(key, at);
      const quiet =
        (QUIET.has(entry.ledgerState) || this._quiet.has(entry.txId.toLowerCase())) &&
        seconds <= entry.signed.packet.deadline + 1n;
      const interval = quiet ? this._sweepMs * QUIET_SWEEP_FACTOR : this._sweepMs;
      if (all || at === undefined || now - at >= interval) due.push(entry);
    }
    this._checkedAt = checkedAt;
    // Events name other relayers' transactions too: only unfinished journaled ones stay marked.
    const unfinishedIds = new Set(unfinished.map((e) => e.txId.toLowerCase()));
    for (const txId of this._quiet) if (!unfinishedIds.has(txId)) this._quiet.delete(txId);
    return due;
  }

  private _pause(signal: AbortSignal): Promise<void> {
    if (this._dirty.size > 0 || this._recheckSince !== undefined) return Promise.resolve();
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    this._wake = () => stop.abort();
    return sleep(this._rt.config.runtime.pollIntervalMs, stop.signal).then(() => {
      signal.removeEventListener("abort", onAbort);
      this._wake = undefined;
    });
  }

  /** Reads the ledger state of one transaction and enqueues its next work. */
  async check(entry: JournalEntry): Promise<void> {
    const rt = this._rt;
    const tx = await rt.gov.ledger.read("transaction", [entry.txId]);
    this._checkedAt.set(`${entry.txId.toLowerCase()}:${entry.role}`, rt.clock());
    this._quiet.delete(entry.txId.toLowerCase());
    const moved = tx.state !== entry.ledgerState;
    if (moved) rt.log.info({ txId: entry.txId, role: entry.role, state: TxState[tx.state] }, "ledger state");
    // Only items not enqueued before: a repeat would be ignored by the store, but still cost a write.
    const wanted = this._work(entry, tx).map((i) => ({ item: i, known: rt.store.getOutbox(i.id) }));
    const items = wanted.filter((w) => w.known === null).map((w) => w.item);
    // Work done already that the ledger still calls for, a sweep later: a reorg past the confirmation depth undid its
    // write (an endorsement, a compensation, an expiry), so it is done again. A write merely waiting on others (an
    // endorsement before the other verifiers') finds itself done at the writer's check-first read.
    const redo = [
      ...wanted.filter((w) => w.known?.status === "done").map((w) => w.item.id),
      ...this._lostResults(entry, tx),
    ];
    const finished = FINAL.has(tx.state) || this._nothingLeft(entry, tx);
    // Closed before, and no longer final: a reorg undid its final state. In view again until it is final again.
    const reopened = entry.status === "finished" && !finished;
    if (entry.status === "finished" && !reopened) return;
    if (!moved && items.length === 0 && redo.length === 0 && !finished) return;
    if (reopened)
      rt.log.warn(
        { txId: entry.txId, role: entry.role, state: TxState[tx.state] },
        "a governance reorg undid the transaction's final state: in view again",
      );
    // One SQLite transaction (one commit) for all of it.
    const rearmed = rt.store.transaction(() => {
      if (moved || finished || reopened)
        rt.journal.update(entry.txId, entry.role, {
          ledgerState: tx.state,
          ...(finished ? { status: "finished" as const } : {}),
          ...(reopened ? { status: entry.role === "initiator" ? ("delivered" as const) : ("executed" as const) } : {}),
        });
      items.forEach((i) => rt.store.enqueue(i));
      return redo.filter((id) => rt.store.rearm(id, rt.clock() - this._sweepMs)).length;
    });
    if (rearmed > 0) rt.log.info({ txId: entry.txId, items: redo }, "ledger still calls for work done before: again");
    if (items.length > 0 || rearmed > 0) rt.worker.kick();
  }

  private _work(
    entry: JournalEntry,
    tx: { state: number; deadline: bigint; doneMask: number; undoneMask: number; writeMask: number },
  ): WorkInput[] {
    const rt = this._rt;
    if (tx.state === TxState.Executed && rt.config.runtime.verify) return [work.verify(entry.txId)];
    if (tx.state === TxState.Committing) return commitItems(entry, this._mySteps(entry), tx);
    if (tx.state === TxState.Compensating)
      return this._mySteps(entry)
        .filter((k) => bit(tx.doneMask, k) && bit(tx.writeMask, k) && !bit(tx.undoneMask, k))
        .map((step) => work.compensate(entry.role, entry.txId, step));
    if ((tx.state === TxState.Open || tx.state === TxState.Executing) && nowSeconds(rt) > tx.deadline + 1n)
      return [work.expire(entry.txId)];
    return [];
  }

  /**
   * This relayer's recordings of results the ledger no longer has while it still takes them: a reorg past the
   * confirmation depth removed the recording (the step itself ran once on the sub-chain and is not run again). Left
   * out: a result the ledger once refused, whose write was undone here since. The writer records one again only if
   * the ledger's step is still not done, so a re-armed recording never counts twice.
   */
  private _lostResults(entry: JournalEntry, tx: { state: number; deadline: bigint; doneMask: number }): string[] {
    if (tx.state !== TxState.Open && tx.state !== TxState.Executing) return [];
    // Past the deadline the ledger takes no result (it only expires): a recording refused then is not lost.
    if (nowSeconds(this._rt) > tx.deadline) return [];
    const store = this._rt.store;
    return this._mySteps(entry)
      .filter((k) => !bit(tx.doneMask, k) && store.getOutbox(work.undo(entry.role, entry.txId, k).id) === null)
      .map((k) => recordId(entry.role, entry.txId, k))
      .filter((id) => store.getOutbox(id)?.status === "done");
  }

  /** Steps on this relayer's side: the source steps for the initiator, the target step for the receiver. */
  private _mySteps(entry: JournalEntry): number[] {
    const side = entry.role === "initiator" ? Side.Source : Side.Target;
    return entry.plan.steps.flatMap((s, k) => (s.side === side ? [k] : []));
  }

  /** Failed or expired with none of this relayer's writes done: nothing to undo, nothing to wait for. */
  private _nothingLeft(entry: JournalEntry, tx: { state: number; doneMask: number; writeMask: number }): boolean {
    if (tx.state !== TxState.Failed && tx.state !== TxState.Expired) return false;
    return this._mySteps(entry).every((k) => !(bit(tx.doneMask, k) && bit(tx.writeMask, k)));
  }
}
