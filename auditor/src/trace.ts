/**
 * One cross-chain transaction end to end, from the index alone: its packets and who signed them, the declared
 * steps, every atomic result, the verifiers' endorsements with their weights, retries, stale reads, compensations,
 * escalations and resolutions, every state transition with its time, and the credit it moved. Receipt checks
 * against the sub-chains are added by `receipts.ts`.
 */
import type { Address, Hex } from "viem";
import { NO_DEPENDENCY, Side, TxState } from "../../lib/domain/ledger-types";
import { badInput } from "./errors";
import { bitsOf, outcomeName, reasonName, refusalName, stateName } from "./names";
import type { IndexStore } from "./store";
import type { EventRow, JsonValue } from "./types";
import type { WireCompensation, WireResult } from "../../lib/domain/ledger-types";

export interface TxRow {
  tx_id: string;
  number: number;
  pipe_id: string;
  opener: string;
  source_institution: number | null;
  target_institution: number | null;
  state: number;
  reason: number;
  deadline: number;
  step_count: number;
  steps: number;
  write_mask: number;
  done_mask: number;
  undone_mask: number;
  opened_at: number;
  opened_block: number;
  updated_at: number;
}

/** A transaction as lists show it. Times are unix seconds (block time). */
export interface TxSummary {
  txId: Hex;
  number: number;
  pipeId: Hex;
  opener: Address;
  sourceInstitution: number | null;
  targetInstitution: number | null;
  state: string;
  reason: string;
  deadline: number;
  stepCount: number;
  stepsDone: number;
  /** Completed writes not undone (those the sub-chains still hold). */
  writesInEffect: number[];
  openedAt: number;
  openedBlock: number;
  updatedAt: number;
}

export interface TraceStep {
  index: number;
  side: "Source" | "Target";
  operation: "read" | "write";
  dependsOn: number | null;
  /** The sub-chain it runs on (the pipe's sub-chain of its side). */
  subchain: Hex | null;
  /** The packet that authorises it (the k-th target step: the k-th packet); null for source steps. */
  packet: number | null;
  done: boolean;
  undone: boolean;
}

export interface TracePacket {
  position: number;
  sequence: string;
  packetHash: Hex;
  packet: Record<string, JsonValue>;
  declaredSigner: Address;
  appSigner: Address | null;
  proxyClaimed: Address | null;
  proxySigner: Address | null;
  /** Both signatures verify: stage 1 by the declared signer, stage 2 by the opener. */
  signaturesValid: boolean;
  problem: string | null;
}

/** Where and when an event happened on the governance chain. */
export interface At {
  at: number;
  block: number;
  ledgerTx: Hex;
}

/** A recorded result as the relayers write it (`WireResult`), with who recorded it and the running result-set hash. */
export interface TraceResult extends At, Omit<WireResult, "txId"> {
  recorder: Address;
  resultSetHash: Hex;
}

export interface TraceCompensation extends At, Omit<WireCompensation, "txId"> {
  recorder: Address;
  attempt: number;
}

export interface TraceEndorsement extends At {
  verifier: Address;
  endorsedHash: Hex;
  weight: number;
  /** Endorsed the recorded result set (false: a conflict). */
  agrees: boolean;
  /** The weight for (or against) after this endorsement, of `totalWeight`. */
  weightSoFar: number;
  totalWeight: number;
}

export interface TraceTransition extends At {
  from: string;
  to: string;
  reason: string;
  actor: Address;
}

export interface TxTrace extends TxSummary {
  steps: TraceStep[];
  packets: TracePacket[];
  /** Why the packets are missing, when they are. */
  packetsNote: string | null;
  results: TraceResult[];
  retries: Array<At & { step: number; by: Address; attempt: number; reason: string }>;
  staleReads: Array<At & { step: number; readStep: number; readVersion: string; seenVersion: string }>;
  endorsements: TraceEndorsement[];
  verification: { resultSetHash: Hex | null; weightFor: number; weightAgainst: number; totalWeight: number | null };
  compensations: TraceCompensation[];
  escalations: Array<At & { by: Address; reason: string }>;
  resolutions: Array<At & { governor: Address; reason: string }>;
  transitions: TraceTransition[];
  credit: Array<At & { institution: number; outcome: string; delta: string; score: string }>;
  creditReportFailures: Array<At & { institution: number; outcome: string; reason: Hex }>;
  refusals: Array<
    At & { pipeId: Hex; packetHash: Hex; reporter: Address; institution: number; kind: string; sequence: string }
  >;
  /** Every indexed event of the transaction. */
  eventCount: number;
}

/** A 32-byte id given by a user, normalised; names the problem otherwise. */
export function parseTxId(value: string): Hex {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value))
    throw badInput(`transaction id "${value}" is not 0x-prefixed 32-byte hex`, { value });
  return value.toLowerCase() as Hex;
}

export function summaryOf(r: TxRow): TxSummary {
  return {
    txId: r.tx_id as Hex,
    number: r.number,
    pipeId: r.pipe_id as Hex,
    opener: r.opener as Address,
    sourceInstitution: r.source_institution,
    targetInstitution: r.target_institution,
    state: stateName(r.state),
    reason: reasonName(r.reason),
    deadline: r.deadline,
    stepCount: r.step_count,
    stepsDone: bitsOf(r.done_mask).length,
    writesInEffect: bitsOf(r.done_mask & r.write_mask & ~r.undone_mask),
    openedAt: r.opened_at,
    openedBlock: r.opened_block,
    updatedAt: r.updated_at,
  };
}

/** The trace of `txId` from the index, or null when the index holds no such transaction. */
export function traceTransaction(store: IndexStore, txId: string): TxTrace | null {
  const id = parseTxId(txId);
  const row = store.statement("SELECT * FROM transactions WHERE tx_id = ?").get(id) as TxRow | undefined;
  if (row === undefined) return null;
  const events = store.eventsWhere("tx_id = ?", [id]);
  const packets = store
    .statement("SELECT * FROM packets WHERE tx_id = ? AND kind = 'open' ORDER BY block, log_index, position")
    .all(id) as PacketDbRow[];
  const pipe = store
    .statement("SELECT source_subchain, target_subchain FROM pipes WHERE pipe_id = ?")
    .get(row.pipe_id) as { source_subchain: Hex; target_subchain: Hex } | undefined;
  const opened = events.find((e) => e.event === "TxOpened");
  const note =
    opened === undefined
      ? undefined
      : (store
          .statement("SELECT note FROM packet_notes WHERE block = ? AND log_index = ?")
          .get(opened.block, opened.logIndex) as { note: string } | undefined);
  return {
    ...summaryOf(row),
    steps: stepsOf(row, pipe),
    packets: packets.map(tracePacket),
    packetsNote: note?.note ?? (packets.length === 0 ? "no packets recovered" : null),
    ...eventsPart(events.filter((e) => e.contract === "ledger" || e.contract === "credit")),
    eventCount: events.length,
  };
}

function stepsOf(row: TxRow, pipe: { source_subchain: Hex; target_subchain: Hex } | undefined): TraceStep[] {
  const steps: TraceStep[] = [];
  let targets = 0;
  for (let i = 0; i < row.step_count; i++) {
    const bits = Math.floor(row.steps / 2 ** (5 * i)) & 31;
    const side = bits & 1 ? Side.Target : Side.Source;
    const depends = (bits >> 2) - 1;
    steps.push({
      index: i,
      side: side === Side.Target ? "Target" : "Source",
      operation: bits & 2 ? "write" : "read",
      dependsOn: depends < 0 || depends === NO_DEPENDENCY ? null : depends,
      subchain: pipe === undefined ? null : side === Side.Target ? pipe.target_subchain : pipe.source_subchain,
      packet: side === Side.Target ? targets++ : null,
      done: ((row.done_mask >> i) & 1) === 1,
      undone: ((row.undone_mask >> i) & 1) === 1,
    });
  }
  return steps;
}

export interface PacketDbRow {
  position: number;
  sequence: string;
  packet_hash: string;
  packet: string;
  declared_signer: string;
  app_signer: string | null;
  proxy_claimed: string | null;
  proxy_signer: string | null;
  problem: string | null;
}

function tracePacket(p: PacketDbRow): TracePacket {
  return {
    position: p.position,
    sequence: p.sequence,
    packetHash: p.packet_hash as Hex,
    packet: JSON.parse(p.packet) as Record<string, JsonValue>,
    declaredSigner: p.declared_signer as Address,
    appSigner: p.app_signer as Address | null,
    proxyClaimed: p.proxy_claimed as Address | null,
    proxySigner: p.proxy_signer as Address | null,
    signaturesValid: p.problem === null,
    problem: p.problem,
  };
}

const at = (e: EventRow): At => ({ at: e.timestamp, block: e.block, ledgerTx: e.txHash });
const s = (v: JsonValue | undefined): string => String(v);
const n = (v: JsonValue | undefined): number => Number(v);

type EventsPart = Omit<TxTrace, keyof TxSummary | "steps" | "packets" | "packetsNote" | "eventCount">;

function eventsPart(events: EventRow[]): EventsPart {
  const part: EventsPart = {
    results: [],
    retries: [],
    staleReads: [],
    endorsements: [],
    compensations: [],
    escalations: [],
    resolutions: [],
    transitions: [],
    credit: [],
    creditReportFailures: [],
    refusals: [],
    verification: { resultSetHash: null, weightFor: 0, weightAgainst: 0, totalWeight: null },
  };
  for (const e of events) addEvent(part, e);
  return part;
}

function addEvent(p: EventsPart, e: EventRow): void {
  const a = e.args;
  switch (e.event) {
    case "TxOpened":
      p.transitions.push({
        ...at(e),
        from: stateName(TxState.None),
        to: stateName(TxState.Open),
        reason: reasonName(0),
        actor: a.opener as Address,
      });
      return;
    case "TxTransitioned":
      p.transitions.push({
        ...at(e),
        from: stateName(a.from),
        to: stateName(a.to),
        reason: reasonName(a.reason),
        actor: a.actor as Address,
      });
      return;
    case "ResultRecorded":
      p.results.push({
        ...at(e),
        step: n(a.step),
        recorder: a.recorder as Address,
        subchain: a.subchain as Hex,
        subchainTx: a.subchainTx as Hex,
        blockNumber: s(a.blockNumber),
        resultHash: a.resultHash as Hex,
        operation: n(a.operation),
        success: a.success === true,
        stateVersion: s(a.stateVersion),
        resultSetHash: a.resultSetHash as Hex,
      });
      p.verification.resultSetHash = a.resultSetHash as Hex;
      addMove(p, e, a.recorder as Address);
      return;
    case "StepRetried":
      p.retries.push({ ...at(e), step: n(a.step), by: a.by as Address, attempt: n(a.attempt), reason: s(a.reason) });
      return;
    case "StaleReadRejected":
      p.staleReads.push({
        ...at(e),
        step: n(a.step),
        readStep: n(a.readStep),
        readVersion: s(a.readVersion),
        seenVersion: s(a.seenVersion),
      });
      return;
    case "Endorsed":
      addEndorsement(p, e);
      addMove(p, e, a.verifier as Address);
      return;
    case "EndorsementConflicted":
      addEndorsement(p, e);
      return;
    case "CompensationRecorded":
      p.compensations.push({
        ...at(e),
        step: n(a.step),
        recorder: a.recorder as Address,
        subchain: a.subchain as Hex,
        subchainTx: a.subchainTx as Hex,
        blockNumber: s(a.blockNumber),
        resultHash: a.resultHash as Hex,
        success: a.success === true,
        attempt: n(a.attempt),
      });
      return;
    case "TxEscalated":
      p.escalations.push({ ...at(e), by: a.by as Address, reason: s(a.reason) });
      return;
    case "TxResolved":
      p.resolutions.push({ ...at(e), governor: a.governor as Address, reason: s(a.reason) });
      return;
    case "OutcomeReported":
      p.credit.push({
        ...at(e),
        institution: n(a.institution),
        outcome: outcomeName(a.outcome),
        delta: s(a.delta),
        score: s(a.score),
      });
      return;
    case "CreditReportFailed":
      p.creditReportFailures.push({
        ...at(e),
        institution: n(a.institution),
        outcome: outcomeName(a.outcome),
        reason: a.reason as Hex,
      });
      return;
    case "RefusalRecorded":
      p.refusals.push({
        ...at(e),
        pipeId: a.pipeId as Hex,
        packetHash: a.packetHash as Hex,
        reporter: a.reporter as Address,
        institution: n(a.institution),
        kind: refusalName(a.kind),
        sequence: s(a.sequence),
      });
      return;
  }
}

/**
 * A move of the normal path, told by the `ResultRecorded` or `Endorsed` that made it (its `to`; none when it made
 * none): from the state the last move left, with the transaction's reason unchanged. A result that took an Open
 * transaction further went through Executing.
 */
function addMove(p: EventsPart, e: EventRow, actor: Address): void {
  if (e.state === null) return;
  const last = p.transitions.at(-1);
  const from = last?.to ?? stateName(TxState.None);
  const reason = last?.reason ?? reasonName(0);
  const through = stateName(TxState.Executing);
  if (from === stateName(TxState.Open) && e.state !== TxState.Executing)
    p.transitions.push({ ...at(e), from, to: through, reason, actor });
  p.transitions.push({ ...at(e), from: p.transitions.at(-1)?.to ?? from, to: stateName(e.state), reason, actor });
}

function addEndorsement(p: EventsPart, e: EventRow): void {
  const a = e.args;
  const agrees = e.event === "Endorsed";
  const weightSoFar = n(agrees ? a.weightFor : a.weightAgainst);
  p.endorsements.push({
    ...at(e),
    verifier: a.verifier as Address,
    endorsedHash: (agrees ? a.resultSetHash : a.endorsedHash) as Hex,
    weight: n(a.weight),
    agrees,
    weightSoFar,
    totalWeight: n(a.totalWeight),
  });
  if (agrees) p.verification.weightFor = weightSoFar;
  else p.verification.weightAgainst = weightSoFar;
  p.verification.totalWeight = n(a.totalWeight);
}
