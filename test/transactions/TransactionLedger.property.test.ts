/**
 * Property test of the ledger's state machine: random transactions (random steps, sides, dependencies), then random
 * calls in random order (results that succeed, fail or read stale data, retries, endorsements for and against,
 * expiry, compensations that succeed or fail, escalations, resolutions), under many seeds. A reference model in
 * TypeScript predicts each call's outcome: the exact custom error, or the transitions it makes. Checked after every
 * call: the chain agrees with the model; every transition is in the table; a confirmed transaction never moves again
 * (never compensates) and a compensated one never confirms; the credit reports match.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex, type Hex } from "viem";
import {
  ALLOWED_TRANSITIONS,
  NO_DEPENDENCY,
  Reason,
  Side,
  TxState,
  ZERO_HASH,
  nextResultSetHash,
  type LedgerResult,
} from "../../lib/domain/ledger-types";
import {
  CHAIN_A,
  CHAIN_B,
  Outcome,
  OPERATION_READ,
  OPERATION_WRITE,
  ledgerFixture,
  makePacket,
  movesOf,
  now,
  revertName,
  sign,
  type Key,
  type SignedInput,
  type StepInput,
  type World,
} from "./fixtures";
import type { ContractTransactionResponse } from "ethers";

const SEEDS = Number(process.env.PROPERTY_SEEDS ?? 24);
const OPS_PER_SEED = Number(process.env.PROPERTY_OPS ?? 32);
const WEIGHTS = [2, 1, 1];
const TOTAL = 4;
const MAX_RETRIES = 3;

/** mulberry32: a small seeded PRNG, so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ModelTx {
  txId: Hex;
  steps: StepInput[];
  deadline: bigint;
  state: TxState;
  reason: Reason;
  done: number;
  undone: number;
  versions: bigint[];
  retries: number[];
  compensations: number[];
  endorsed: Set<number>;
  weightFor: number;
  weightAgainst: number;
  hash: Hex;
  history: TxState[];
}

type Move = [TxState, TxState];
/** What the model expects of a call: an error name, or success with these transitions. */
type Expectation = { error: string } | { moves: Move[] };

const bit = (i: number) => 1 << i;
const writeMask = (t: ModelTx) => t.steps.reduce((m, s, i) => (s.operation === OPERATION_WRITE ? m | bit(i) : m), 0);
const pendingWrites = (t: ModelTx) => t.done & writeMask(t) & ~t.undone;
const running = (t: ModelTx) => t.state === TxState.Open || t.state === TxState.Executing;

class Model {
  readonly txs: ModelTx[] = [];
  readonly reports = new Map<string, number>();

  constructor(private readonly w: World) {}

  report(institution: number, outcome: number): void {
    const key = `${institution}:${outcome}`;
    this.reports.set(key, (this.reports.get(key) ?? 0) + 1);
  }

  move(t: ModelTx, to: TxState, moves: Move[]): void {
    moves.push([t.state, to]);
    t.state = to;
  }

  fail(t: ModelTx, reason: Reason, moves: Move[]): void {
    t.reason = reason;
    this.move(t, TxState.Failed, moves);
    if (pendingWrites(t) !== 0) this.move(t, TxState.Compensating, moves);
  }

  institutionOf(t: ModelTx, step: number): number {
    return t.steps[step]!.side === Side.Source ? this.w.source : this.w.target;
  }

  record(t: ModelTx, r: LedgerResult, caller: Key, at: bigint): Expectation {
    if (!running(t)) return { error: "LedgerInvalidTransition" };
    if (r.step >= t.steps.length) return { error: "LedgerUnknownStep" };
    if (caller !== recorder(this.w, t, r.step)) return { error: "LedgerUnauthorizedRecorder" };
    // Past the deadline a running transaction only expires.
    if (at > t.deadline) return { error: "LedgerDeadlinePassed" };
    if (t.done & bit(r.step)) return { error: "LedgerStepAlreadyRecorded" };
    const dep = t.steps[r.step]!.dependsOn;
    if (dep !== NO_DEPENDENCY && !(t.done & bit(dep))) return { error: "LedgerDependencyPending" };
    const moves: Move[] = [];
    t.hash = nextResultSetHash(t.hash, r);
    if (r.success) {
      t.done |= bit(r.step);
      t.versions[r.step] = r.stateVersion;
    }
    if (dep !== NO_DEPENDENCY && r.stateVersion !== t.versions[dep]) {
      this.fail(t, Reason.StaleRead, moves);
    } else if (!r.success) {
      this.fail(t, Reason.StepFailed, moves);
      this.report(this.institutionOf(t, r.step), Outcome.Failed);
    } else {
      if (t.state === TxState.Open) this.move(t, TxState.Executing, moves);
      if (t.done === bit(t.steps.length) - 1) this.move(t, TxState.Executed, moves);
    }
    return { moves };
  }

  retry(t: ModelTx, step: number, caller: Key, at: bigint): Expectation {
    if (!running(t)) return { error: "LedgerInvalidTransition" };
    if (step >= t.steps.length) return { error: "LedgerUnknownStep" };
    if (caller !== recorder(this.w, t, step)) return { error: "LedgerUnauthorizedRecorder" };
    if (at > t.deadline) return { error: "LedgerDeadlinePassed" };
    if (t.done & bit(step)) return { error: "LedgerStepAlreadyRecorded" };
    if (t.retries[step]! >= MAX_RETRIES) return { error: "LedgerRetryLimitReached" };
    t.retries[step]!++;
    return { moves: [] };
  }

  endorse(t: ModelTx, verifier: number, hash: Hex): Expectation {
    if (t.state !== TxState.Executed) return { error: "LedgerInvalidTransition" };
    if (t.endorsed.has(verifier)) return { error: "LedgerAlreadyEndorsed" };
    t.endorsed.add(verifier);
    const moves: Move[] = [];
    if (hash === t.hash) {
      t.weightFor += WEIGHTS[verifier]!;
      if (t.weightFor * 2 > TOTAL) {
        this.move(t, TxState.Confirmed, moves);
        this.report(this.w.source, Outcome.Completed);
        this.report(this.w.target, Outcome.Completed);
      }
    } else {
      t.weightAgainst += WEIGHTS[verifier]!;
      if (t.weightAgainst * 2 >= TOTAL) {
        t.reason = Reason.Conflict;
        this.move(t, TxState.Manual, moves);
      }
    }
    return { moves };
  }

  expire(t: ModelTx, at: bigint): Expectation {
    if (!running(t)) return { error: "LedgerInvalidTransition" };
    if (at <= t.deadline) return { error: "LedgerDeadlineNotReached" };
    const moves: Move[] = [];
    t.reason = Reason.Expired;
    this.move(t, TxState.Expired, moves);
    if (pendingWrites(t) !== 0) this.move(t, TxState.Compensating, moves);
    let pending = 0;
    while (t.done & bit(pending)) pending++;
    // A pending target step is the target's fault only once the target acknowledged the transaction (a result or a
    // retry of one of its steps); before that, the source may never have delivered its packets.
    const acknowledged = t.steps.some(
      (s, i) => s.side === Side.Target && ((t.done & bit(i)) !== 0 || t.retries[i]! > 0),
    );
    const late =
      t.steps[pending]!.side === Side.Target && !acknowledged ? this.w.source : this.institutionOf(t, pending);
    this.report(late, Outcome.TimedOut);
    return { moves };
  }

  compensate(t: ModelTx, step: number, success: boolean, caller: Key): Expectation {
    if (t.state !== TxState.Compensating) return { error: "LedgerInvalidTransition" };
    if (step >= t.steps.length) return { error: "LedgerUnknownStep" };
    if (caller !== recorder(this.w, t, step)) return { error: "LedgerUnauthorizedRecorder" };
    if (!(pendingWrites(t) & bit(step))) return { error: "LedgerNotCompensable" };
    const moves: Move[] = [];
    const attempt = ++t.compensations[step]!;
    if (success) {
      t.undone |= bit(step);
      if (pendingWrites(t) === 0) this.move(t, TxState.Compensated, moves);
    } else if (attempt > MAX_RETRIES) {
      t.reason = Reason.CompensationFailed;
      this.move(t, TxState.Manual, moves);
    }
    return { moves };
  }

  escalate(t: ModelTx, at: bigint): Expectation {
    if (!ALLOWED_TRANSITIONS[t.state].includes(TxState.Manual)) return { error: "LedgerInvalidTransition" };
    if (running(t) && at > t.deadline) return { error: "LedgerDeadlinePassed" };
    const moves: Move[] = [];
    t.reason = Reason.Escalated;
    this.move(t, TxState.Manual, moves);
    return { moves };
  }

  resolve(t: ModelTx): Expectation {
    if (t.state !== TxState.Manual) return { error: "LedgerInvalidTransition" };
    const moves: Move[] = [];
    this.move(t, TxState.Resolved, moves);
    return { moves };
  }
}

/** The time of the next block, or null within a few seconds of the deadline (where the model cannot tell). */
async function nextTime(t: ModelTx): Promise<bigint | null> {
  const at = BigInt(await time.latest()) + 1n;
  return at > t.deadline - 5n && at <= t.deadline + 5n ? null : at;
}

const recorder = (w: World, t: ModelTx, step: number): Key =>
  t.steps[step]!.side === Side.Source ? w.srcProxy : w.tgtProxy;

/** Random steps: 1 to 4, at least one on the target side, writes sometimes depending on an earlier read. */
function randomSteps(rand: () => number): StepInput[] {
  const n = 1 + Math.floor(rand() * 4);
  const steps: StepInput[] = [];
  for (let i = 0; i < n; i++) {
    const side = rand() < 0.5 ? Side.Source : Side.Target;
    const operation = rand() < 0.5 ? OPERATION_READ : OPERATION_WRITE;
    const reads = steps.map((s, j) => (s.operation === OPERATION_READ ? j : -1)).filter((j) => j >= 0);
    const dependsOn =
      operation === OPERATION_WRITE && reads.length > 0 && rand() < 0.5
        ? reads[Math.floor(rand() * reads.length)]!
        : NO_DEPENDENCY;
    steps.push({ side, subchain: side === Side.Source ? CHAIN_A : CHAIN_B, operation, dependsOn });
  }
  if (!steps.some((s) => s.side === Side.Target))
    steps[n - 1] = { ...steps[n - 1]!, side: Side.Target, subchain: CHAIN_B };
  return steps;
}

async function openRandom(w: World, rand: () => number, model: Model, seed: number): Promise<void> {
  const steps = randomSteps(rand);
  const txId = keccak256(toHex(`property:${seed}:${model.txs.length}`));
  const packets: SignedInput[] = [];
  for (const s of steps.filter((x) => x.side === Side.Target)) {
    packets.push(await sign(w, await makePacket(w, { txId, operation: s.operation as 0 | 1 })));
  }
  const deadline = (await now()) + 600n + BigInt(Math.floor(rand() * 600));
  const tx = await w.ledger.connect(w.srcProxy.wallet).open(packets, steps, deadline);
  await tx.wait();
  model.txs.push({
    txId,
    steps,
    deadline,
    state: TxState.Open,
    reason: Reason.None,
    done: 0,
    undone: 0,
    versions: steps.map(() => 0n),
    retries: steps.map(() => 0),
    compensations: steps.map(() => 0),
    endorsed: new Set(),
    weightFor: 0,
    weightAgainst: 0,
    hash: ZERO_HASH,
    history: [TxState.Open],
  });
}

/** Runs `call`, and checks it against the model's expectation; returns the transitions it emitted. */
async function check(
  w: World,
  t: ModelTx,
  expectation: Expectation,
  call: () => Promise<ContractTransactionResponse>,
  what: string,
): Promise<void> {
  if ("error" in expectation) {
    expect(await revertName(w, call()), what).to.equal(expectation.error);
    return;
  }
  const tx = await call();
  const receipt = await tx.wait();
  for (const log of receipt!.logs) {
    const parsed = w.ledger.interface.parseLog(log);
    if (parsed?.fragment.inputs.some((i) => i.name === "txId")) expect(parsed.args.txId, what).to.equal(t.txId);
  }
  // TxTransitioned, and the normal path's moves told by ResultRecorded / Endorsed.
  const moves: Move[] = await movesOf(w, tx, t.history[t.history.length - 1]!);
  for (const [from, to] of moves)
    expect(ALLOWED_TRANSITIONS[from], `${what}: ${TxState[from]} -> ${TxState[to]}`).to.include(to);
  expect(moves, what).to.deep.equal(expectation.moves);
  for (const [, to] of moves) {
    const last = t.history[t.history.length - 1]!;
    // Final states never move again: a confirmed transaction never compensates, a compensated one never confirms.
    expect(
      [TxState.Confirmed, TxState.Compensated, TxState.Resolved],
      `${what}: moved after ${TxState[last]}`,
    ).not.to.include(last);
    t.history.push(to);
  }
  const view = await w.ledger.transaction(t.txId);
  expect([Number(view.state), Number(view.reason), Number(view.doneMask), Number(view.undoneMask)], what).to.deep.equal(
    [t.state, t.reason, t.done, t.undone],
  );
  expect(view.resultSetHash, what).to.equal(t.hash);
  expect([Number(view.weightFor), Number(view.weightAgainst)], what).to.deep.equal([t.weightFor, t.weightAgainst]);
}

async function randomOp(w: World, rand: () => number, model: Model, seed: number, op: number): Promise<void> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  if (model.txs.length === 0 || rand() < 0.12) return openRandom(w, rand, model, seed);
  const roll = rand();
  // Mostly a transaction in a state where the call can do something, sometimes any (to hit the refusals).
  const suited = (states: TxState[]) => {
    const fit = model.txs.filter((x) => states.includes(x.state));
    return fit.length > 0 && rand() < 0.8 ? pick(fit) : pick(model.txs);
  };
  const t =
    roll < 0.45
      ? suited([TxState.Open, TxState.Executing])
      : roll < 0.65
        ? suited([TxState.Executed])
        : roll < 0.9 && roll >= 0.73
          ? suited([TxState.Compensating])
          : roll >= 0.95
            ? suited([TxState.Manual])
            : pick(model.txs);
  const what = `seed ${seed} op ${op} ${t.txId.slice(0, 10)} in ${TxState[t.state]}`;
  if (roll < 0.35) {
    // A result: usually of a step not recorded yet, sometimes of any step, a wrong recorder or a step out of range.
    const pending = t.steps.map((_, i) => i).filter((i) => !(t.done & bit(i)));
    const step =
      rand() < 0.05
        ? t.steps.length
        : pending.length > 0 && rand() < 0.85
          ? pick(pending)
          : Math.floor(rand() * t.steps.length);
    const s = t.steps[Math.min(step, t.steps.length - 1)]!;
    const dep = step < t.steps.length ? t.steps[step]!.dependsOn : NO_DEPENDENCY;
    const version = dep !== NO_DEPENDENCY && rand() < 0.8 ? t.versions[dep]! : BigInt(1 + Math.floor(rand() * 5));
    const r: LedgerResult = {
      txId: t.txId,
      step,
      subchain: s.subchain,
      subchainTx: keccak256(toHex(`${seed}:${op}`)),
      blockNumber: BigInt(op),
      resultHash: keccak256(toHex(`r:${seed}:${op}`)),
      operation: s.operation,
      success: rand() < 0.8,
      stateVersion: version,
    };
    const caller =
      rand() < 0.05
        ? s.side === Side.Source
          ? w.tgtProxy
          : w.srcProxy
        : s.side === Side.Source
          ? w.srcProxy
          : w.tgtProxy;
    const at = await nextTime(t);
    if (at === null) return;
    const expectation = model.record(t, r, caller, at);
    return check(w, t, expectation, () => w.ledger.connect(caller.wallet).recordResult(r), `${what}: result ${step}`);
  }
  if (roll < 0.45) {
    const step = Math.floor(rand() * t.steps.length);
    const caller = recorder(w, t, step);
    const at = await nextTime(t);
    if (at === null) return;
    return check(
      w,
      t,
      model.retry(t, step, caller, at),
      () => w.ledger.connect(caller.wallet).retryStep(t.txId, step, "transient"),
      `${what}: retry ${step}`,
    );
  }
  if (roll < 0.65) {
    const v = Math.floor(rand() * 3);
    const hash = rand() < 0.85 ? t.hash : keccak256(toHex(`other:${op}`));
    return check(
      w,
      t,
      model.endorse(t, v, hash),
      () => w.ledger.connect(w.auditors[v]!.wallet).endorse(t.txId, hash),
      `${what}: endorse by ${v}`,
    );
  }
  if (roll < 0.73) {
    // Expiry: sometimes jump past the deadline first; never call it within a few seconds of the deadline.
    if (rand() < 0.5) await time.increase(1300);
    const at = BigInt(await time.latest()) + 1n;
    if (at > t.deadline - 5n && at <= t.deadline + 5n) return;
    return check(w, t, model.expire(t, at), () => w.ledger.connect(w.outsider).expire(t.txId), `${what}: expire`);
  }
  if (roll < 0.9) {
    const writes = t.steps.map((s, i) => (s.operation === OPERATION_WRITE ? i : -1)).filter((i) => i >= 0);
    const step = writes.length > 0 && rand() < 0.9 ? pick(writes) : Math.floor(rand() * t.steps.length);
    const caller = recorder(w, t, step);
    const success = rand() < 0.6;
    const c = {
      txId: t.txId,
      step,
      subchain: t.steps[step]!.subchain,
      subchainTx: keccak256(toHex(`undo:${seed}:${op}`)),
      blockNumber: BigInt(op),
      resultHash: keccak256(toHex("undo")),
      success,
    };
    return check(
      w,
      t,
      model.compensate(t, step, success, caller),
      () => w.ledger.connect(caller.wallet).recordCompensation(c),
      `${what}: compensate ${step}`,
    );
  }
  if (roll < 0.95) {
    const by = pick([w.srcProxy.wallet, w.tgtProxy.wallet, w.c.governors[0]!]);
    const at = await nextTime(t);
    if (at === null) return;
    return check(
      w,
      t,
      model.escalate(t, at),
      () => w.ledger.connect(by).escalate(t.txId, "property"),
      `${what}: escalate`,
    );
  }
  return check(
    w,
    t,
    model.resolve(t),
    () => w.ledger.connect(w.c.governors[1]!).resolve(t.txId, "property"),
    `${what}: resolve`,
  );
}

describe("TransactionLedger: state machine property", () => {
  it(`follows the model under ${SEEDS} seeds of ${OPS_PER_SEED} random calls`, async () => {
    const visited = new Set<TxState>();
    for (let seed = 1; seed <= SEEDS; seed++) {
      const w = await loadFixture(ledgerFixture);
      const rand = prng(seed);
      const model = new Model(w);
      for (let op = 0; op < OPS_PER_SEED; op++) await randomOp(w, rand, model, seed, op);
      for (const t of model.txs) t.history.forEach((s) => visited.add(s));
      // Every (institution, outcome) pair: what the model reported, and nothing else.
      for (const institution of [w.source, w.target]) {
        for (const outcome of Object.values(Outcome).filter((v) => typeof v === "number")) {
          const expected = model.reports.get(`${institution}:${outcome}`) ?? 0;
          expect(
            await w.credit.countOf(institution, outcome),
            `seed ${seed} credit ${institution}:${outcome}`,
          ).to.equal(BigInt(expected));
        }
      }
    }
    // The random walk reached every state.
    for (const s of [
      TxState.Open,
      TxState.Executing,
      TxState.Executed,
      TxState.Confirmed,
      TxState.Failed,
      TxState.Compensating,
      TxState.Compensated,
      TxState.Manual,
      TxState.Resolved,
      TxState.Expired,
    ]) {
      expect(visited, TxState[s]).to.include(s);
    }
  });
});
