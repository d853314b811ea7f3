/**
 * Writes to the transaction ledger. Every operation finds out whether it was already done (or is no longer needed),
 * so a write retried after a crash or a lost receipt never counts twice: by a read first, or, for an open and a
 * result, by the ledger's own refusal at the write's gas check (no read on the usual path), the state read then to
 * tell "already done" from "moot".
 *
 * Operations travel through the store's outbox as JSON (`LedgerOp`, bigints as decimal strings) and are performed
 * by the outbox worker (`perform`), with its retries, backoff and bound.
 *
 * Opens, results and endorsements are batched adaptively (see `Coalescer`): alone when nothing of their kind is in
 * flight, else together in the next `openMany`, `recordResults` or `endorseMany`, across transactions.
 */
import { getAbiItem, toEventSelector, type Address, type Hex } from "viem";
import { hashPacket, parseSignedPacket, type SignedPacket, type WireSignedPacket } from "../../../lib/amdp";
import { CcgpError } from "../../../lib/infra/errors";
import type { Logger } from "../../../lib/infra/log";
import type { RelayerMetrics } from "../metrics";
import {
  TxState,
  fromWireResult,
  type LedgerResult,
  type WireCompensation,
  type WireResult,
} from "../../../lib/domain/ledger-types";
import type { LedgerStep } from "../../../lib/domain/plan";
import type { ChainReceipt } from "../../../lib/chain/types";
import { ledgerAbi } from "../../../lib/abi/contracts";
import { isRevert } from "./contract";
import type { GovernanceContracts } from "./contracts";
import type { LogReader } from "./logs";
import { Coalescer } from "./coalescer";

/** The ledger's MAX_BATCH: items per batched call. */
export const LEDGER_MAX_BATCH = 64;

export type OpenOp = Extract<LedgerOp, { op: "open" }>;
interface ResultItem {
  result: LedgerResult;
  fromBlock: bigint;
}
interface EndorseItem {
  txId: Hex;
  resultSetHash: Hex;
  checked: boolean;
  proceed?: Promise<boolean>;
}

export type LedgerOp =
  | { op: "open"; txId: Hex; packets: WireSignedPacket[]; steps: LedgerStep[]; deadline: string }
  | { op: "recordResult"; result: WireResult; fromBlock: string }
  /** A two-phase write's commit: a second result of its step, taken while the transaction is Committing. */
  | { op: "recordCommit"; result: WireResult; fromBlock: string }
  /** `checked`: the caller has just read `hasEndorsed` and the state (no second read; a race is still caught below). */
  | { op: "endorse"; txId: Hex; resultSetHash: Hex; checked?: boolean }
  | { op: "recordCompensation"; compensation: WireCompensation }
  | { op: "retryStep"; txId: Hex; step: number; reason: string; attempt: number }
  | { op: "escalate"; txId: Hex; reason: string }
  | { op: "expire"; txId: Hex }
  | { op: "reportRefusal"; packet: WireSignedPacket };

/**
 * `sent`: this call changed the ledger (`state`: the state it moved an opened transaction to, from its receipt's
 * last move: `TxTransitioned`, or `ResultRecorded` / `Endorsed` on the normal path; none if it moved none, opening
 * included); `already`: it was done before; `moot`: the ledger
 * moved on without it.
 */
export type WriteOutcome =
  { outcome: "sent"; tx: Hex; state?: number } | { outcome: "already" } | { outcome: "moot"; reason: string };

/**
 * The ledger events that move a transaction, each with the state it moved to as its third indexed topic (`to`):
 * `TxTransitioned`, and on the normal path `ResultRecorded` and `Endorsed` (0 there: no move).
 */
const MOVES = new Set(
  (["TxTransitioned", "ResultRecorded", "Endorsed"] as const).map((name) =>
    toEventSelector(getAbiItem({ abi: ledgerAbi, name })),
  ),
);
const ACTIVE = new Set<number>([TxState.Open, TxState.Executing]);
const UNFINISHED = new Set<number>([
  TxState.Open,
  TxState.Executing,
  TxState.Executed,
  TxState.Failed,
  TxState.Compensating,
  TxState.Expired,
  TxState.Committing,
]);

const bit = (mask: number, index: number): boolean => ((mask >> index) & 1) === 1;

/** The part of the ledger's `transaction` view a recording is decided on. */
interface TxView {
  state: number;
  doneMask: number;
  undoneMask: number;
}

/**
 * A step's result and a two-phase write's commit go through the same `recordResult`: the ledger takes a result while
 * the transaction runs and a commit while it is Committing. What differs is how each is known taken and when it is
 * no longer wanted; the path that sends one and tells "already done" from "moot" is one ({@link LedgerWriter._record}).
 */
interface Recording {
  /** Whether the ledger's state shows it taken. */
  taken: (tx: TxView, step: number) => boolean;
  /** Whether the ledger still takes one in this state. */
  takes: (tx: TxView) => boolean;
  /** The `ResultRecorded` logs of the step once it is taken: a failed result leaves no mark in the state. */
  logs: number;
  /**
   * Read the state first and send only if it takes one: the ledger tells a commit from a result by its state alone.
   * A result is not read first: the gas check runs it, and the state is read only on a refusal.
   */
  readFirst: boolean;
}

const RESULT: Recording = {
  taken: (tx, step) => bit(tx.doneMask, step),
  takes: (tx) => ACTIVE.has(tx.state),
  logs: 1,
  readFirst: false,
};
/** While Committing, `undoneMask` holds the committed writes; after it, the step's second `ResultRecorded`. */
const COMMIT: Recording = {
  taken: (tx, step) => tx.state === TxState.Committing && bit(tx.undoneMask, step),
  takes: (tx) => tx.state === TxState.Committing,
  logs: 2,
  readFirst: true,
};

/** The transaction an operation is about (`undefined` for a refusal report). */
function txIdOf(op: LedgerOp): Hex | undefined {
  if (op.op === "recordResult" || op.op === "recordCommit") return op.result.txId;
  if (op.op === "recordCompensation") return op.compensation.txId;
  return "txId" in op ? op.txId : undefined;
}

export interface PerformOptions {
  /**
   * Endorse only: the write is prepared (gas) at once and sent only if this resolves true; false cancels it
   * (`CHAIN_WRITE_CANCELLED`). Lets a caller check something else while the write is being prepared.
   */
  proceed?: Promise<boolean>;
}

export class LedgerWriter {
  private readonly _sentListeners: Array<(txId: Hex, state: number) => void> = [];
  private readonly _opens = new Coalescer<OpenOp, WriteOutcome>({
    one: (op) => this._open(op),
    many: (ops) => this._openMany(ops),
    max: LEDGER_MAX_BATCH,
    onSplit: (error, size) => this._split("openMany", error, size),
  });
  private readonly _results = new Coalescer<ResultItem, WriteOutcome>({
    one: (r) => this._record(r.result, r.fromBlock, RESULT),
    many: (rs) => this._recordMany(rs),
    max: LEDGER_MAX_BATCH,
    onSplit: (error, size) => this._split("recordResults", error, size),
  });
  private readonly _endorsements = new Coalescer<EndorseItem, WriteOutcome>({
    one: (e) => this._endorse(e.txId, e.resultSetHash, e.checked, e.proceed),
    many: (es) => this._endorseMany(es),
    max: LEDGER_MAX_BATCH,
    onSplit: (error, size) => this._split("endorseMany", error, size),
  });

  constructor(
    private readonly _c: GovernanceContracts,
    private readonly _logs: LogReader,
    /** The account that sends (the service signer: the only recorder, opener and endorser for this relayer). */
    private readonly _sender: Address,
    private readonly _log: Logger,
    private readonly _metrics?: RelayerMetrics,
  ) {}

  /**
   * Called with the transaction after each write this relayer got mined that moved its state (its receipt has a
   * move): this relayer knows it before its confirmed log follower does (the reconciler reads the ledger
   * on it).
   */
  onSent(listener: (txId: Hex, state: number) => void): void {
    this._sentListeners.push(listener);
  }

  /** Performs one operation if it is still needed. Contract refusals that are not "already done" are thrown. */
  async perform(op: LedgerOp, options: PerformOptions = {}): Promise<WriteOutcome> {
    try {
      const outcome = await this._perform(op, options);
      const txId = txIdOf(op);
      if (outcome.outcome === "sent") {
        this._metrics?.record({ type: "ledgerWrite", operation: op.op, outcome: "ok" });
        if (txId !== undefined && outcome.state !== undefined)
          for (const listener of this._sentListeners) listener(txId, outcome.state);
      }
      this._log.debug({ op: op.op, txId, ...outcome }, "ledger write");
      return outcome;
    } catch (error) {
      this._metrics?.record({ type: "ledgerWrite", operation: op.op, outcome: "failed" });
      throw error;
    }
  }

  private _perform(op: LedgerOp, options: PerformOptions): Promise<WriteOutcome> {
    switch (op.op) {
      case "open":
        return this._opens.run(op);
      case "recordResult":
        return this._results.run({ result: fromWireResult(op.result), fromBlock: BigInt(op.fromBlock) });
      case "recordCommit":
        return this._record(fromWireResult(op.result), BigInt(op.fromBlock), COMMIT);
      case "endorse":
        return this._endorsements.run({
          txId: op.txId,
          resultSetHash: op.resultSetHash,
          checked: op.checked === true,
          proceed: options.proceed,
        });
      case "recordCompensation":
        return this._recordCompensation(op.compensation);
      case "retryStep":
        return this._retryStep(op);
      case "escalate":
        return this._escalate(op.txId, op.reason);
      case "expire":
        return this._expire(op.txId);
      case "reportRefusal":
        return this._reportRefusal(parseSignedPacket(op.packet, { maxPayloadBytes: Number.MAX_SAFE_INTEGER }));
    }
  }

  private _sent(receipt: ChainReceipt): WriteOutcome {
    return this._sentFor(receipt, undefined);
  }

  /**
   * The last move in the receipt (of `txId` alone in a batched call): the state the write left the transaction in
   * (`to` is the third indexed topic).
   */
  private _sentFor(receipt: ChainReceipt, txId: Hex | undefined): WriteOutcome {
    const ledger = this._c.ledger.address.toLowerCase();
    const id = txId?.toLowerCase();
    const last = receipt.logs
      .filter(
        (l) =>
          l.address.toLowerCase() === ledger &&
          MOVES.has(l.topics[0] as Hex) &&
          BigInt(l.topics[3] ?? 0) !== 0n &&
          (id === undefined || l.topics[1]?.toLowerCase() === id),
      )
      .at(-1);
    if (last === undefined) return { outcome: "sent", tx: receipt.transactionHash };
    return { outcome: "sent", tx: receipt.transactionHash, state: Number(BigInt(last.topics[3]!)) };
  }

  private _split(call: string, error: unknown, size: number): void {
    const reason = error instanceof Error ? error.message : String(error);
    this._log.info({ call, size, reason }, "batched ledger call refused: its items go one by one");
  }

  private async _state(txId: Hex) {
    return this._c.ledger.read("transaction", [txId]);
  }

  /**
   * `checked`: the check-first read made already (a batch's). Alone, the open is not read first: its gas check runs it,
   * and an open done before is refused there (`LedgerTxExists`); the state is read only when the open fails.
   */
  private async _open(op: OpenOp, checked?: Promise<boolean>): Promise<WriteOutcome> {
    checked?.catch(() => undefined); // also awaited below
    const packets = signedPackets(op);
    try {
      const receipt = await this._c.ledger.write(
        "open",
        [packets, op.steps, BigInt(op.deadline)],
        checked === undefined ? {} : { proceed: checked },
      );
      return this._sent(receipt);
    } catch (error) {
      if (isRevert(error, "LedgerTxExists")) return { outcome: "already" };
      const read = checked ?? this._c.ledger.read("statusOf", [op.txId]).then(([s]) => s === TxState.None);
      const fresh = await read.catch(() => Promise.reject(error)); // the write's fault first
      if (!fresh) return { outcome: "already" };
      throw error;
    }
  }

  /**
   * The opens of one pipe, in sequence order, in one `openMany` (those already open left out; one alone as `open`).
   * If the batch is refused they go one by one, in order, stopping at the first failure, so that no higher sequence
   * overtakes a lower one that failed for a passing reason: the answer of an open not attempted is `undefined`.
   */
  async openInOrder(ops: OpenOp[]): Promise<Array<WriteOutcome | Error | undefined>> {
    let answers: Array<WriteOutcome | Error>;
    try {
      answers = await this._openMany(ops);
    } catch (error) {
      this._split("openMany", error, ops.length);
      answers = [];
      for (const op of ops) {
        const answer = await this._open(op).catch(toError);
        answers.push(answer);
        if (answer instanceof Error) break;
      }
    }
    for (const answer of answers) {
      if (answer instanceof Error) this._metrics?.record({ type: "ledgerWrite", operation: "open", outcome: "failed" });
      else if (answer.outcome === "sent")
        this._metrics?.record({ type: "ledgerWrite", operation: "open", outcome: "ok" });
    }
    return ops.map((_, i) => answers[i]);
  }

  /**
   * Several opens in one `openMany`, those already open left out. Sorted by their first sequence, so the opens of
   * one pipe go in the order the ledger takes them.
   */
  private async _openMany(ops: OpenOp[]): Promise<WriteOutcome[]> {
    // Not read first, as an open alone: a batch with an open done before is refused at its gas check, and its opens
    // then go one by one (the caller), where each refusal is told apart.
    if (ops.length === 1) return [await this._open(ops[0]!)];
    const requests = ops
      .map((op) => ({ op, packets: signedPackets(op) }))
      .sort((a, b) => (a.packets[0]!.packet.sequence < b.packets[0]!.packet.sequence ? -1 : 1))
      .map(({ op, packets }) => ({ packets, steps: op.steps, deadline: BigInt(op.deadline) }));
    const receipt = await this._c.ledger.write("openMany", [requests]);
    this._log.debug({ size: ops.length, tx: receipt.transactionHash }, "opens batched");
    return ops.map((op) => this._sentFor(receipt, op.txId));
  }

  /**
   * One result or commit (`kind`), sent unless the state read first says it is not wanted. On a refusal the state
   * tells done from moot; where it cannot (the transaction moved on, or the refusal races the read), the step's
   * `ResultRecorded` logs do.
   */
  private async _record(result: LedgerResult, fromBlock: bigint, kind: Recording): Promise<WriteOutcome> {
    const first = kind.readFirst ? this._state(result.txId) : undefined;
    const proceed = first?.then((tx) => kind.takes(tx) && !kind.taken(tx, result.step));
    proceed?.catch(() => undefined); // also awaited below
    try {
      const receipt = await this._c.ledger.write("recordResult", [result], proceed === undefined ? {} : { proceed });
      return this._sent(receipt);
    } catch (error) {
      // The write's fault first, if the read fails too.
      const tx = await (first ?? this._state(result.txId)).catch(() => Promise.reject(error));
      if (kind.taken(tx, result.step)) return { outcome: "already" };
      if (!kind.takes(tx) || isRevert(error, "LedgerStepAlreadyRecorded", "LedgerInvalidTransition")) {
        if (await this._recorded(result, fromBlock, kind.logs)) return { outcome: "already" };
        return { outcome: "moot", reason: `transaction is ${TxState[tx.state]}` };
      }
      // Past its deadline the transaction only expires: the result is never taken (the write is ours to undo).
      if (isRevert(error, "LedgerDeadlinePassed"))
        return { outcome: "moot", reason: "past the deadline: the transaction can only expire" };
      throw error;
    }
  }

  /**
   * Results that arrived together, in one `recordResults`: a result already recorded is answered as done, one whose
   * transaction no longer takes results goes alone (its own checks decide between done and moot). Sorted by step,
   * so a read goes before a write of the same transaction that depends on it.
   */
  private async _recordMany(items: ResultItem[]): Promise<Array<WriteOutcome | Error>> {
    // Not read first, as a result alone: a batch with a result the ledger no longer takes is refused at its gas check,
    // and every item then goes alone (the coalescer), where its own refusal is told apart (done or moot).
    const ordered = [...items].sort((a, b) => a.result.step - b.result.step).map((p) => p.result);
    const receipt = await this._c.ledger.write("recordResults", [ordered]);
    this._log.debug({ size: items.length, tx: receipt.transactionHash }, "results batched");
    return items.map((item) => this._sentFor(receipt, item.result.txId));
  }

  /** Whether the step's `ResultRecorded` was emitted `count` times (a result once, a commit a second time). */
  private async _recorded(result: LedgerResult, fromBlock: bigint, count: number): Promise<boolean> {
    const events = await this._logs.events({
      address: this._c.ledger.address,
      abi: this._c.ledger.abi,
      eventName: "ResultRecorded",
      args: { txId: result.txId, step: result.step },
      fromBlock,
    });
    return events.length >= count;
  }

  private async _endorse(
    txId: Hex,
    resultSetHash: Hex,
    checked: boolean,
    proceed?: Promise<boolean>,
  ): Promise<WriteOutcome> {
    if (!checked) {
      const [endorsed, tx] = await Promise.all([
        this._c.ledger.read("hasEndorsed", [txId, this._sender]),
        this._state(txId),
      ]);
      if (endorsed) return { outcome: "already" };
      if (tx.state !== TxState.Executed) return { outcome: "moot", reason: `transaction is ${TxState[tx.state]}` };
    }
    // A race with the read (another endorsement of ours, the state moved) is refused at estimation and decoded here.
    try {
      const receipt = await this._c.ledger.write(
        "endorse",
        [txId, resultSetHash],
        proceed === undefined ? {} : { proceed },
      );
      return this._sent(receipt);
    } catch (error) {
      if (isRevert(error, "LedgerAlreadyEndorsed")) return { outcome: "already" };
      if (isRevert(error, "LedgerInvalidTransition")) return { outcome: "moot", reason: "no longer Executed" };
      throw error;
    }
  }

  /**
   * Endorsements that arrived together, in one `endorseMany`. Each waits for its own go-ahead first (a cancelled one
   * is answered `CHAIN_WRITE_CANCELLED`, as alone); an unchecked one reads `hasEndorsed` and the state first.
   */
  private async _endorseMany(items: EndorseItem[]): Promise<Array<WriteOutcome | Error>> {
    const answers: Array<WriteOutcome | Error | undefined> = await Promise.all(
      items.map(async (e): Promise<WriteOutcome | Error | undefined> => {
        try {
          if (e.proceed !== undefined && !(await e.proceed))
            return new CcgpError("CHAIN_WRITE_CANCELLED", `endorsement of ${e.txId} cancelled: its check said no`, {
              txId: e.txId,
            });
        } catch (error) {
          return toError(error);
        }
        if (e.checked) return undefined;
        const [endorsed, tx] = await Promise.all([
          this._c.ledger.read("hasEndorsed", [e.txId, this._sender]),
          this._state(e.txId),
        ]);
        if (endorsed) return { outcome: "already" };
        if (tx.state !== TxState.Executed) return { outcome: "moot", reason: `transaction is ${TxState[tx.state]}` };
        return undefined;
      }),
    );
    const pending = items.filter((_, i) => answers[i] === undefined);
    if (pending.length === 1) {
      const e = pending[0]!;
      answers[items.indexOf(e)] = await this._endorse(e.txId, e.resultSetHash, true).catch(toError);
    } else if (pending.length > 1) {
      const requests = pending.map((e) => ({ txId: e.txId, resultSetHash: e.resultSetHash }));
      const receipt = await this._c.ledger.write("endorseMany", [requests]);
      this._log.debug({ size: pending.length, tx: receipt.transactionHash }, "endorsements batched");
      for (const e of pending) answers[items.indexOf(e)] = this._sentFor(receipt, e.txId);
    }
    return answers.map((a) => a!);
  }

  private async _recordCompensation(c: WireCompensation): Promise<WriteOutcome> {
    const tx = await this._state(c.txId);
    if (bit(tx.undoneMask, c.step)) return { outcome: "already" };
    if (tx.state !== TxState.Compensating) return { outcome: "moot", reason: `transaction is ${TxState[tx.state]}` };
    const receipt = await this._c.ledger.write("recordCompensation", [{ ...c, blockNumber: BigInt(c.blockNumber) }]);
    return this._sent(receipt);
  }

  /**
   * A retry is a record (it shows the step's side acted on the packet), not a permission: at the ledger's bound the
   * step is still retried until its deadline, only no longer recorded (`moot`), so a transient fault never ends a
   * transaction that still has time.
   */
  private async _retryStep(op: Extract<LedgerOp, { op: "retryStep" }>): Promise<WriteOutcome> {
    const [[retries], bound] = await Promise.all([
      this._c.ledger.read("attemptsOf", [op.txId, op.step]),
      this._c.ledger.read("maxRetries", []),
    ]);
    if (retries >= op.attempt) return { outcome: "already" };
    if (retries >= bound) return { outcome: "moot", reason: `the ledger's retry bound (${bound}) is recorded` };
    try {
      const receipt = await this._c.ledger.write("retryStep", [op.txId, op.step, op.reason.slice(0, 200)]);
      return this._sent(receipt);
    } catch (error) {
      if (isRevert(error, "LedgerStepAlreadyRecorded")) return { outcome: "already" };
      if (isRevert(error, "LedgerInvalidTransition", "LedgerDeadlinePassed"))
        return { outcome: "moot", reason: "transaction no longer takes retries" };
      // The bound lowered by a vote meanwhile.
      if (isRevert(error, "LedgerRetryLimitReached"))
        return { outcome: "moot", reason: "the ledger's retry bound is recorded" };
      throw error;
    }
  }

  private async _escalate(txId: Hex, reason: string): Promise<WriteOutcome> {
    const tx = await this._state(txId);
    if (tx.state === TxState.Manual || tx.state === TxState.Resolved) return { outcome: "already" };
    if (!UNFINISHED.has(tx.state)) return { outcome: "moot", reason: `transaction is ${TxState[tx.state]}` };
    try {
      const receipt = await this._c.ledger.write("escalate", [txId, reason.slice(0, 200)]);
      return this._sent(receipt);
    } catch (error) {
      if (isRevert(error, "LedgerInvalidTransition"))
        return { outcome: "moot", reason: "transaction finished meanwhile" };
      if (isRevert(error, "LedgerDeadlinePassed"))
        return { outcome: "moot", reason: "past the deadline: the transaction can only expire" };
      throw error;
    }
  }

  private async _expire(txId: Hex): Promise<WriteOutcome> {
    const tx = await this._state(txId);
    if (!ACTIVE.has(tx.state)) return { outcome: "moot", reason: `transaction is ${TxState[tx.state]}` };
    const receipt = await this._c.ledger.write("expire", [txId]);
    return this._sent(receipt);
  }

  private async _reportRefusal(signed: SignedPacket): Promise<WriteOutcome> {
    const packetHash = hashPacket(signed.packet);
    if (await this._c.ledger.read("refusalReported", [packetHash])) return { outcome: "already" };
    if (signed.signatures.proxy === undefined)
      return { outcome: "moot", reason: "no countersignature: nothing proves who sent it" };
    try {
      const receipt = await this._c.ledger.write("reportRefusal", [
        signed.packet,
        signed.signatures.app,
        signed.signatures.proxy,
      ]);
      return this._sent(receipt);
    } catch (error) {
      if (isRevert(error, "LedgerRefusalAlreadyReported")) return { outcome: "already" };
      if (isRevert(error, "LedgerNotRefusable", "AmdpInvalidProxySignature", "AmdpMalformedSignature"))
        return { outcome: "moot", reason: "the ledger finds no provable misbehaviour in it" };
      throw error;
    }
  }
}

/** The packets of an open in the ledger's form; each must carry its stage-2 countersignature. */
function signedPackets(op: OpenOp) {
  return op.packets.map((w) => {
    const p = parseSignedPacket(w, { maxPayloadBytes: Number.MAX_SAFE_INTEGER });
    if (p.signatures.proxy === undefined)
      throw new CcgpError("LEDGER_OPEN_UNSIGNED", `packet of ${op.txId} has no stage-2 countersignature`, {
        txId: op.txId,
      });
    return { packet: p.packet, appSignature: p.signatures.app, proxySignature: p.signatures.proxy };
  });
}

const toError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));
