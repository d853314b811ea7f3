/**
 * Atomic steps on this relayer's sub-chain and their results on the ledger: a source step (initiator), the target
 * step of a received packet (receiver), the recording of each result, and the undoing of a write whose result the
 * ledger no longer takes. Each handler re-reads the ledger and the gateway before acting (see `Gateway.ensure*`).
 */
import { keccak256, toHex, zeroAddress, zeroHash, type Hex } from "viem";
import { inboxKey, type OutboxItem } from "../store";
import { work, type RecordWork, type StepWork, type UndoWork, type WorkInput } from "../work/items";
import { ContractError, isRevert } from "../governance/contract";
import { fromWireResult, wireResult } from "../../../lib/domain/ledger-types";
import type { Execution, ExecuteRequest } from "../crosschain/gateway";
import { attestationOf, type GatewayCall } from "../attest/attestation";
import type { AttestationRequest } from "../attest/attester";
import { collectAttestations } from "../attest/collect";
import { parseSignedPacket, toWire, type SignedPacket } from "../../../lib/amdp";
import { checkTarget } from "../crosschain/target";
import { registryWatch } from "../governance/contracts";
import { CcgpError } from "../../../lib/infra/errors";
import { Side, TxState, type LedgerResult } from "../../../lib/domain/ledger-types";
import type { JournalEntry } from "./journal";
import { packetOperation, sourceSequence, TWO_PHASE_WRITE } from "../../../lib/domain/plan";
import { rollBack, runPrepare } from "./two-phase";
import type { TxContext } from "./context";
import { GiveUp, type WorkOutcome } from "./worker";

const MAX_UINT64 = (1n << 64n) - 1n;
const capped = (v: bigint): bigint => (v > MAX_UINT64 ? MAX_UINT64 : v);
export const ACTIVE = new Set<number>([TxState.Open, TxState.Executing]);

/** Gateway refusals that are the step's own fault: recorded as a failed result (the transaction fails). */
const STEP_REFUSALS = [
  "SubchainGatewayContractNotRegistered",
  "SubchainGatewaySelectorBlocked",
  "SubchainGatewayPayloadTooLarge",
  "SubchainGatewayCallDataTooShort",
  "SubchainGatewayInvalidOperation",
  "SubchainGatewayInvalidContractName",
  "SubchainGatewayStaleRead",
];

/** The target contract's refusals (`checkTarget`): final, unlike a node that does not answer. */
const TARGET_REFUSALS = new Set(["CONTRACT_NOT_ATTESTED", "CONTRACT_NOT_REGISTERED", "CONTRACT_CODE_MISMATCH"]);

/**
 * The (pipe, sequence) a step runs under on this relayer's gateway: a target step's packet's, a source step's derived.
 */
export function gatewaySequence(
  entry: Pick<JournalEntry, "role" | "sequence" | "signed" | "plan">,
  step: number,
): bigint {
  return entry.role === "receiver" ? packetOf(entry, step).packet.sequence : sourceSequence(entry.sequence, step);
}

/** The signed packet that authorises a step: its own for a later target step, else the transaction's first. */
export function packetOf(entry: Pick<JournalEntry, "signed" | "plan">, step: number): SignedPacket {
  const k = entry.plan.steps[step]?.packet ?? 0;
  if (k === 0) return entry.signed;
  return parseSignedPacket(entry.plan.packets![k - 1], { maxPayloadBytes: Number.MAX_SAFE_INTEGER });
}

/** Runs one step (source step of the initiator or target step of the receiver) and hands its result on. */
/** `item`: the stored item's attempts so far and its last fault, which a retried step reports to the ledger. */
export async function runStep(
  rt: TxContext,
  { txId, step, role }: StepWork,
  item: Pick<OutboxItem, "attempts" | "lastError">,
): Promise<WorkOutcome> {
  const entry = rt.journal.require(txId, role);
  const planned = entry.plan.steps[step]!;
  if (planned.operation === TWO_PHASE_WRITE) return runPrepare(rt, entry, step, item);
  const sequence = gatewaySequence(entry, step);
  // Read together (one round trip each way, concurrently).
  const [[state], record] = await Promise.all([
    rt.gov.ledger.read("statusOf", [txId]),
    rt.subchain.gateway.record(entry.pipeId, sequence),
  ]);
  if (!ACTIVE.has(state)) {
    stopBeforeStep(rt, entry, step, state);
    // Run before a crash, never recorded: the ledger will not take it now, so undo the write here.
    const wrote = record.target !== zeroAddress && record.operation === 1 && record.success && !record.compensated;
    return wrote ? { next: [work.undo(role, txId, step)] } : {};
  }
  // `attempts` counts failed runs only: a run a crash cut short is not a retry the ledger needs to hear of.
  const retried = item.attempts > 0 && record.target === zeroAddress;
  if (retried) await recordRetry(rt, txId, step, item);
  const dependent =
    planned.dependsOn !== undefined && planned.operation === 1 ? await dependencyOf(rt, entry, step) : undefined;
  let result: LedgerResult;
  try {
    const execution = await rt.subchain.gateway.ensureExecuted(
      {
        txId,
        attestations: (request) => beforeRun(rt, entry, step, request),
        pipeId: entry.pipeId,
        sequence,
        deadline: packetOf(entry, step).packet.deadline,
        contractName: planned.contractName,
        operation: planned.operation,
        data: planned.data,
        fromBlock: entry.subFromBlock,
        ...(dependent === undefined ? {} : { dependent }),
      },
      retried ? undefined : record,
    );
    result = resultOf(rt, entry, step, execution);
    if (dependent !== undefined)
      result.stateVersion = dependent.readVersion; // the version it relied on, as the ledger compares
    else if (planned.operation === 0) result.stateVersion = await readVersion(rt, entry, step, execution);
  } catch (error) {
    // Past the deadline on the sub-chain's clock: nothing ran, and the reconciler expires the transaction.
    if (isRevert(error, "SubchainGatewayPacketExpired")) return (stopBeforeStep(rt, entry, step, TxState.Expired), {});
    if (!isRevert(error, ...STEP_REFUSALS)) throw classify(error);
    const revert = (error as ContractError).revert!;
    result = refusedResult(rt, entry, step, revert.data);
    // Stale: the version the write saw, so that the ledger records StaleReadRejected (the step's side is not at fault).
    if (revert.name === "SubchainGatewayStaleRead") result.stateVersion = capped(revert.args[3] as bigint);
  }
  rt.log.info({ txId, step, role, success: result.success, subchainTx: result.subchainTx }, "step executed");
  return { next: [work.record(role, txId, step, wireResult(result))] };
}

/**
 * Just before a step runs: the attestations it needs and, for a received packet's target, the contract check again
 * (read meanwhile, so it adds no round trip): code changed since the packet was accepted is never run, and the
 * transaction goes to manual intervention with the named reason.
 */
export async function beforeRun(
  rt: Pick<TxContext, "attestationsAhead" | "attesterEndpoints" | "config" | "gov" | "log" | "metrics" | "subchain">,
  entry: JournalEntry,
  step: number,
  call: ExecuteRequest,
): Promise<Hex> {
  const target =
    entry.role === "receiver"
      ? checkTarget(
          {
            names: rt.gov.names,
            watch: registryWatch(rt.gov),
            gateway: rt.subchain.gateway,
            chain: rt.subchain.chain,
          },
          rt.subchain.subchainId,
          call.contractName,
        )
      : undefined;
  target?.catch(() => undefined);
  const attestations = await collectFor(rt, entry, step, call);
  try {
    await target;
  } catch (error) {
    if (error instanceof CcgpError && TARGET_REFUSALS.has(error.code))
      throw new GiveUp(error.code, error.message, { ...error.details }, { cause: error });
    throw error;
  }
  return attestations;
}

/**
 * The attestations of this step, from the endpoints the gateway's attesters published: the request carries the
 * packet, its payload and (with source steps) the plan and its salt; the attestation expected back is computed here.
 * A collection started when the packet was accepted ({@link collectAhead}) for exactly this request is waited for
 * instead.
 */
async function collectFor(
  rt: Pick<TxContext, "attestationsAhead" | "attesterEndpoints" | "config" | "log" | "metrics" | "subchain">,
  entry: AttestedEntry,
  step: number,
  call: GatewayCall,
): Promise<Hex> {
  const began = performance.now();
  const { key, collect } = collectionOf(rt, entry, step, call);
  const ahead = rt.attestationsAhead.take(key);
  let collection: "ahead" | "step" | "again" = ahead === undefined ? "step" : "ahead";
  const packed = ahead === undefined ? await collect() : await ahead.catch(() => ((collection = "again"), collect()));
  const seconds = (performance.now() - began) / 1000;
  rt.metrics.record({ type: "attestationsWaited", seconds, collection });
  rt.log.debug({ txId: entry.txId, step, collection, waitedMs: seconds * 1000 }, "attestations taken");
  return packed;
}

/** What a journaled transaction's step needs to be attested (a received packet's, before it is journaled too). */
export type AttestedEntry = Pick<JournalEntry, "txId" | "pipeId" | "sequence" | "role" | "signed" | "plan">;

/**
 * Starts collecting the attestations of a received packet's target step, as the step will ask for them (same request,
 * same expected attestation): {@link collectFor} then takes it. Not for a two-phase write (its prepare asks for
 * attestations of its own). Returns the key of the collection it started (undefined: none, or one was held).
 */
export function collectAhead(
  rt: Pick<TxContext, "attestationsAhead" | "attesterEndpoints" | "config" | "log" | "metrics" | "subchain">,
  entry: AttestedEntry,
  step: number,
): string | undefined {
  const planned = entry.plan.steps[step];
  if (planned === undefined || planned.operation === TWO_PHASE_WRITE) return undefined;
  const { key, collect } = collectionOf(rt, entry, step, stepCall(entry, step));
  return rt.attestationsAhead.start(key, collect) ? key : undefined;
}

/** The gateway call of a step (what its attestations cover), as {@link runStep} runs it. */
function stepCall(entry: AttestedEntry, step: number): GatewayCall {
  const planned = entry.plan.steps[step]!;
  return {
    txId: entry.txId,
    pipeId: entry.pipeId,
    sequence: gatewaySequence(entry, step),
    deadline: packetOf(entry, step).packet.deadline,
    contractName: planned.contractName,
    operation: planned.operation,
    data: planned.data,
  };
}

/** The attestation request of a step and the collection that answers it, under a key naming everything it covers. */
function collectionOf(
  rt: Pick<TxContext, "attesterEndpoints" | "config" | "log" | "metrics" | "subchain">,
  entry: AttestedEntry,
  step: number,
  call: GatewayCall,
): { key: string; collect: () => Promise<Hex> } {
  const gateway = rt.subchain.gateway;
  const plan = entry.plan;
  const signed = packetOf(entry, step);
  const request: AttestationRequest = {
    packet: toWire(signed).packet as AttestationRequest["packet"],
    payload: signed.payload,
    step,
  };
  // A source step needs the plan its txId commits to; the target step is the packet's own.
  if (plan.steps[step]!.side === Side.Source) {
    request.steps = plan.steps.map((s) => ({
      side: s.side,
      operation: s.operation as 0 | 1 | 2,
      contractName: s.contractName,
      data: s.data,
    }));
    if (plan.salt !== undefined) request.salt = plan.salt;
  }
  const { txId, pipeId, sequence, deadline, contractName, operation, data } = call;
  const fields = { txId, pipeId, sequence, deadline, contractName, operation, data };
  // Hex in any case names the same request (the journal and the wire may differ in case).
  const key = keccak256(toHex(JSON.stringify({ fields, request }, bigintJson).toLowerCase()));
  const collect = async (): Promise<Hex> => {
    const began = performance.now();
    rt.log.debug({ txId, step }, "attestations asked");
    // Both kept reads (see the gateway): usually no round trip before the attesters are asked.
    const [set, subchain] = await Promise.all([gateway.attesterSet(), gateway.subchainId()]);
    const expected = attestationOf(fields, subchain, gateway.address);
    const packed = await collectAttestations(
      request,
      expected,
      gateway.chainId,
      set,
      rt.attesterEndpoints,
      rt.config.attesters,
    );
    const ms = performance.now() - began;
    rt.metrics.record({ type: "attestationsCollected", seconds: ms / 1000 });
    rt.log.debug({ txId, step, collectedMs: ms }, "attestations collected");
    return packed;
  };
  return { key, collect };
}

const bigintJson = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

/** The ledger no longer takes this step: nothing runs; a receiver closes its inbox entry. */
export function stopBeforeStep(
  rt: Pick<TxContext, "journal" | "log" | "store">,
  entry: JournalEntry,
  step: number,
  state: number,
): void {
  rt.log.warn({ txId: entry.txId, step, state: TxState[state] }, "step not run: the transaction is no longer active");
  if (entry.role === "receiver") {
    completeInbound(rt, entry, "refused", { code: "TX_NOT_ACTIVE", message: `transaction is ${TxState[state]}` });
    rt.journal.update(entry.txId, entry.role, {
      status: "failed",
      ledgerState: state,
      error: `transaction is ${TxState[state]}`,
    });
  }
}

/**
 * Tells the ledger a step is run again after a transient fault (which shows the step's side has the packet). Past
 * the ledger's retry bound it is not recorded, and the step still runs: the worker retries it until the deadline.
 */
export async function recordRetry(
  rt: Pick<TxContext, "writer" | "log">,
  txId: Hex,
  step: number,
  item: Pick<OutboxItem, "attempts" | "lastError">,
): Promise<void> {
  const outcome = await rt.writer.perform({
    op: "retryStep",
    txId,
    step,
    reason: item.lastError ?? "transient fault",
    attempt: item.attempts,
  });
  if (outcome.outcome === "moot")
    rt.log.debug({ txId, step, attempt: item.attempts, reason: outcome.reason }, "retry not recorded; run anyway");
}

/** The version key of a dependent write and the version its read recorded on the ledger. */
async function dependencyOf(
  rt: Pick<TxContext, "gov" | "govLogs">,
  entry: JournalEntry,
  step: number,
): Promise<{ versionKey: Hex; readVersion: bigint }> {
  const planned = entry.plan.steps[step]!;
  if (planned.versionKey === undefined)
    throw new GiveUp(
      "STEP_REFUSED",
      `step ${step} of ${entry.txId} depends on step ${planned.dependsOn} but has no versionKey`,
      { txId: entry.txId, step },
    );
  const [read] = await rt.govLogs.events({
    address: rt.gov.ledger.address,
    abi: rt.gov.ledger.abi,
    eventName: "ResultRecorded",
    args: { txId: entry.txId, step: planned.dependsOn! },
    fromBlock: entry.govFromBlock,
  });
  // The ledger refuses the write before its read (LedgerDependencyPending): wait for it.
  if (read === undefined)
    throw new Error(`step ${step} of ${entry.txId} waits for the result of its read (step ${planned.dependsOn})`);
  return { versionKey: planned.versionKey, readVersion: read.args.stateVersion };
}

/**
 * The state version a read saw: the version of the key a later write depends on (`keyedReadVersion`), or the
 * contract-wide version (`InboundExecuted.stateVersion`) when nothing depends on it.
 */
async function readVersion(
  rt: Pick<TxContext, "subchain">,
  entry: JournalEntry,
  step: number,
  e: Execution,
): Promise<bigint> {
  const key = entry.plan.steps.find((s) => s.dependsOn === step)?.versionKey;
  if (key === undefined) return capped(e.stateVersion);
  const target = await rt.subchain.gateway.businessContract(entry.plan.steps[step]!.contractName);
  return rt.subchain.gateway.keyedReadVersion(target, key, e);
}

/** Contract refusals are final; transport faults are retried. */
function classify(error: unknown): unknown {
  if (
    error instanceof ContractError &&
    error.code === "CONTRACT_REVERTED" &&
    error.errorName !== "SubchainGatewayInsufficientGas"
  )
    return new GiveUp("STEP_REFUSED", error.message, { ...error.details }, { cause: error });
  return error;
}

function resultOf(rt: Pick<TxContext, "subchain">, entry: JournalEntry, step: number, e: Execution): LedgerResult {
  return {
    txId: entry.txId,
    step,
    subchain: rt.subchain.subchainId,
    subchainTx: e.tx,
    blockNumber: e.blockNumber,
    resultHash: e.resultHash,
    operation: packetOperation(entry.plan.steps[step]!.operation),
    success: e.success,
    stateVersion: capped(e.stateVersion),
  };
}

/** A step the gateway refused to run: a failed result with the refusal's hash and no sub-chain transaction. */
export function refusedResult(
  rt: Pick<TxContext, "subchain">,
  entry: JournalEntry,
  step: number,
  revertData: Hex,
): LedgerResult {
  return {
    txId: entry.txId,
    step,
    subchain: rt.subchain.subchainId,
    subchainTx: zeroHash,
    blockNumber: 0n,
    resultHash: keccak256(revertData),
    operation: packetOperation(entry.plan.steps[step]!.operation),
    success: false,
    stateVersion: 0n,
  };
}

/** Records a step's result; then the initiator goes on with its next step, the receiver answers its peer. */
export async function recordStep(
  rt: Pick<TxContext, "journal" | "log" | "store" | "writer">,
  { txId, step, role, result: wire }: RecordWork,
): Promise<WorkOutcome> {
  const entry = rt.journal.require(txId, role);
  const result = fromWireResult(wire);
  const outcome = await rt.writer.perform({
    op: "recordResult",
    result: wire,
    fromBlock: entry.govFromBlock.toString(),
  });
  if (outcome.outcome === "moot") {
    rt.log.warn({ txId, step, reason: outcome.reason }, "result not taken by the ledger");
    rt.journal.update(txId, role, { error: `result of step ${step} not taken: ${outcome.reason}` });
    if (role === "receiver") completeInbound(rt, entry, "refused", { code: "TX_NOT_ACTIVE", message: outcome.reason });
    // The ledger never lets a finished transaction move forward: undo our own write ourselves.
    const wrote = result.success && result.operation === 1;
    return wrote ? { next: [work.undo(role, txId, step)] } : {};
  }
  if (role === "receiver") {
    const summary = { step, success: result.success, subchainTx: result.subchainTx, resultHash: result.resultHash };
    const next = entry.plan.steps.findIndex((s, k) => k > step && s.side === Side.Target);
    // The transaction's next target step runs here too, after this one's result is on the ledger.
    if (result.success && next > 0) return { next: [work.step("receiver", txId, next)] };
    return {
      commit: () => {
        rt.journal.update(txId, role, { status: "executed", result: summary });
        completeInbound(rt, entry, result.success ? "done" : "failed", summary);
      },
    };
  }
  if (!result.success) {
    rt.journal.update(txId, role, { error: `step ${step} failed on the sub-chain` });
    return {};
  }
  return { next: [nextInitiatorItem(entry, step + 1)] };
}

/** The initiator's work after `step - 1`: the next source step, or the delivery of the packet (the last step). */
export function nextInitiatorItem(entry: JournalEntry, step: number): WorkInput {
  const planned = entry.plan.steps[step];
  if (planned === undefined || planned.side === Side.Target) return work.deliver(entry.txId);
  return work.step("initiator", entry.txId, step);
}

/** Undoes this relayer's own write on its gateway when the ledger would not take its result (no ledger record). */
export async function undoStep(
  rt: Pick<TxContext, "journal" | "log" | "subchain">,
  { txId, step, role }: UndoWork,
): Promise<WorkOutcome> {
  const entry = rt.journal.require(txId, role);
  if (entry.plan.steps[step]?.operation === TWO_PHASE_WRITE) {
    await rollBack(rt, entry, step);
    rt.journal.update(txId, role, { status: "finished", error: `step ${step} rolled back on the sub-chain` });
    return {};
  }
  const run = await rt.subchain.gateway.ensureCompensated(
    entry.pipeId,
    gatewaySequence(entry, step),
    entry.subFromBlock,
  );
  if (!run.success)
    throw new Error(`compensation of step ${step} of ${txId} was refused by the business contract; retrying`);
  rt.log.warn({ txId, step, tx: run.tx }, "own write undone: the ledger no longer took its result");
  rt.journal.update(txId, role, { status: "finished", error: `step ${step} undone on the sub-chain` });
  return {};
}

/** Closes the receiver's inbox entries once (what a retransmission of a packet is answered with). */
export function completeInbound(
  rt: Pick<TxContext, "store">,
  entry: JournalEntry,
  status: "done" | "failed" | "refused",
  result: unknown,
): void {
  const sequences = [entry.sequence, ...(entry.plan.packets ?? []).map((w) => BigInt(w.packet.sequence))];
  for (const sequence of sequences) {
    const key = inboxKey.packet(entry.pipeId, sequence);
    if (rt.store.getInbound(key)?.status === "accepted") rt.store.completeInbound(key, status, result);
  }
}
