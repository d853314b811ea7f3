/**
 * A transaction's plan: its atomic steps. The target step is the packet's (its contract name, operation and payload)
 * and comes last; source steps run before it, in the order given, on the initiator's own sub-chain through its
 * gateway (so a failed target step leaves completed source writes for the rollback to undo).
 *
 * Source steps are not in the signed packet, so an app binds them to its stage-1 signature through the transaction
 * id: `txId = keccak256(abi.encode(salt, planDigest(steps)))` (`boundTxId`). A plan with source steps whose txId is
 * not bound this way is refused (`STEPS_NOT_BOUND`): the relayer never runs a write the app did not sign for.
 *
 * Several target steps: the k-th target step is the k-th packet's (the request's own packet, then `packets`), each
 * signed by the app; the ledger opens them together. Such a plan has no source steps.
 *
 * Read, then write: a write step may depend on an earlier read of its own sub-chain (`dependsOn`, with `versionKey`,
 * the key of the record read, e.g. a batch id). The read's result records the key's state version; the write runs
 * through the gateway's `executeDependentWrite`, which refuses it when the version moved since the read
 * (`SubchainGatewayStaleRead`); the ledger then records `StaleReadRejected` and compensates the completed writes.
 */
import { encodeAbiParameters, keccak256, toHex, type Hex } from "viem";
import { z } from "zod";
import type { Packet, WireSignedPacket } from "../amdp";
import { CcgpError } from "../infra/errors";
import { NO_DEPENDENCY, Side } from "./ledger-types";

const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "expected a 0x-prefixed 32-byte hex value");
const dependency = { dependsOn: z.int().min(0).max(6).optional(), versionKey: bytes32.optional() };

/** At most this many steps (the ledger's MAX_STEPS). */
export const MAX_STEPS = 8;
/** The ledger's operation code of a two-phase write (`OPERATION_TWO_PHASE_WRITE`); its packet says write (1). */
export const TWO_PHASE_WRITE = 2;
/**
 * How a transaction's writes complete: compensation (the default: applied at once, undone after a failure) or
 * two-phase.
 */
export type TxMode = "compensation" | "two-phase";
export const txModeSchema = z.enum(["compensation", "two-phase"]);
/** A two-phase transaction has at most this many steps (the ledger keeps the mode in the steps' spare bit). */
const MAX_TWO_PHASE_STEPS = 7;

export interface PlanStep {
  side: Side;
  /** 0 read, 1 write, 2 two-phase write (prepared, then committed or rolled back). */
  operation: number;
  /** keccak256 of the business contract's name (the packet's for the target step). */
  contractName: Hex;
  /** The business calldata (the packet's payload for the target step). */
  data: Hex;
  /** A write: the earlier read of the same sub-chain it relies on. */
  dependsOn?: number;
  /** With `dependsOn`: the key whose state version the read saw and the write requires unchanged. */
  versionKey?: Hex;
  /** A target step: the index of its packet (0: the request's own, k: `packets[k - 1]`). */
  packet?: number;
}

export interface Plan {
  steps: PlanStep[];
  /** Index of the target step (the packet's). */
  target: number;
  /** The salt the transaction id binds the steps with (plans with source steps): attesters check the binding. */
  salt?: Hex;
  /** The packets of the target steps after the first (wire JSON, countersigned once accepted). */
  packets?: WireSignedPacket[];
}

/** A step as the ledger takes it in `open`. */
export interface LedgerStep {
  side: number;
  subchain: Hex;
  operation: number;
  dependsOn: number;
}

export class PlanError extends CcgpError<"STEPS_INVALID" | "STEPS_NOT_BOUND"> {}

const hex = z.string().regex(/^0x(?:[0-9a-fA-F]{2})*$/, "expected 0x-prefixed hex bytes");
const operation = z.union([z.literal(0), z.literal(1), z.literal("read"), z.literal("write")]);
const stepSchema = z.discriminatedUnion("side", [
  z.strictObject({ side: z.literal("target"), ...dependency }),
  z.strictObject({
    side: z.literal("source"),
    ...dependency,
    operation,
    /** The business contract's registered name on the initiator's gateway (not its hash). */
    contract: z.string().min(1).max(256),
    data: hex.refine((d) => d.length >= 10, "expected calldata with a function selector"),
  }),
]);
export const stepsSchema = z.array(stepSchema).min(1).max(MAX_STEPS);
export type StepInput = z.input<typeof stepSchema>;

/**
 * Builds the plan of an app request: `steps` as given (default: the packet's target step alone). `more`: the packets
 * of the target steps after the first, with their payloads (the k-th target step is the k-th packet's).
 */
export function planOf(
  packet: Packet,
  payload: Hex,
  steps: unknown,
  more: readonly { packet: Packet; payload: Hex }[] = [],
  mode: TxMode = "compensation",
): Plan {
  const plan = plainPlanOf(packet, payload, steps, more);
  return mode === "two-phase" ? twoPhase(plan) : plan;
}

/**
 * The plan in two-phase mode: its writes become two-phase writes. Refused when the ledger would refuse it: no write,
 * two writes on one side, a dependent write (the gateway prepares by transaction id, without a read's version), or
 * more than 7 steps.
 */
function twoPhase(plan: Plan): Plan {
  const writes = plan.steps.filter((s) => s.operation === 1);
  if (writes.length === 0) throw invalid("a two-phase transaction needs a write", "mode");
  for (const side of [Side.Source, Side.Target])
    if (writes.filter((s) => s.side === side).length > 1)
      throw invalid(
        `a two-phase transaction has at most one write on each side (two on the ${Side[side]} side)`,
        "steps",
      );
  const dependent = plan.steps.findIndex((s) => s.dependsOn !== undefined);
  if (dependent >= 0)
    throw invalid(`step ${dependent}: a two-phase transaction has no dependent write`, `steps.${dependent}.dependsOn`);
  if (plan.steps.length > MAX_TWO_PHASE_STEPS)
    throw invalid(`a two-phase transaction has at most ${MAX_TWO_PHASE_STEPS} steps`, "steps");
  return { ...plan, steps: plan.steps.map((s) => (s.operation === 1 ? { ...s, operation: TWO_PHASE_WRITE } : s)) };
}

/** The packet operation of a step (a two-phase write's packet says write), as its results are recorded too. */
export const packetOperation = (operation: number): number => (operation === TWO_PHASE_WRITE ? 1 : operation);

/** Whether a plan's writes are two-phase. */
export const isTwoPhase = (plan: Plan): boolean => plan.steps.some((s) => s.operation === TWO_PHASE_WRITE);

function plainPlanOf(
  packet: Packet,
  payload: Hex,
  steps: unknown,
  more: readonly { packet: Packet; payload: Hex }[],
): Plan {
  if (steps === undefined) {
    if (more.length > 0) throw invalid("several packets need steps naming a target step for each", "steps");
    return { steps: [targetStep(packet, payload)], target: 0 };
  }
  const parsed = stepsSchema.safeParse(steps);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ["steps", ...issue.path].join(".");
    throw new PlanError("STEPS_INVALID", `request field "${field}" is invalid: ${issue.message}`, { field });
  }
  const packets = [{ packet, payload }, ...more];
  const targets = parsed.data.filter((s) => s.side === "target").length;
  if (targets !== packets.length)
    throw invalid(`steps must hold one target step for each packet (${packets.length}), got ${targets}`, "steps");
  let used = 0;
  const out: PlanStep[] = parsed.data.map((s) => {
    const dependency = {
      ...(s.dependsOn === undefined ? {} : { dependsOn: s.dependsOn }),
      ...(s.versionKey === undefined ? {} : { versionKey: s.versionKey.toLowerCase() as Hex }),
    };
    if (s.side === "target") {
      const k = used++;
      return {
        ...targetStep(packets[k]!.packet, packets[k]!.payload),
        ...dependency,
        ...(packets.length > 1 ? { packet: k } : {}),
      };
    }
    return {
      side: Side.Source,
      operation: s.operation === "read" || s.operation === 0 ? 0 : 1,
      contractName: keccak256(toHex(s.contract)),
      data: s.data.toLowerCase() as Hex,
      ...dependency,
    };
  });
  if (out[out.length - 1]!.side !== Side.Target)
    throw invalid("the target step (the packet's) must be the last step", "steps");
  const hasSource = out.some((s) => s.side === Side.Source);
  if (hasSource && packets.length > 1) throw invalid("a plan with several target steps has no source steps", "steps");
  if (hasSource && packet.sequence >= 1n << 56n)
    throw invalid("a transaction with source steps needs packet.sequence below 2^56", "packet.sequence");
  out.forEach((s, i) => checkDependency(out, s, i));
  return { steps: out, target: out.findIndex((s) => s.side === Side.Target) };
}

const invalid = (message: string, field: string): PlanError => new PlanError("STEPS_INVALID", message, { field });

/** A dependent write relies on an earlier read of its own sub-chain (where the gateway compares the version). */
function checkDependency(steps: readonly PlanStep[], s: PlanStep, i: number): void {
  if (s.dependsOn === undefined) {
    if (s.versionKey !== undefined)
      throw invalid(`step ${i} has a versionKey but no dependsOn`, `steps.${i}.versionKey`);
    return;
  }
  const read = steps[s.dependsOn];
  if (s.operation !== 1 || read === undefined || s.dependsOn >= i || read.operation !== 0 || read.side !== s.side)
    throw invalid(
      `step ${i}: only a write depends, on an earlier read of its own side (got dependsOn ${s.dependsOn})`,
      `steps.${i}.dependsOn`,
    );
  if (s.versionKey === undefined)
    throw invalid(
      `step ${i} depends on step ${s.dependsOn}: it needs the versionKey of the record read`,
      `steps.${i}.versionKey`,
    );
}

function targetStep(packet: Packet, payload: Hex): PlanStep {
  return { side: Side.Target, operation: packet.operation, contractName: packet.contractName, data: payload };
}

const STEP_TUPLE = [
  {
    type: "tuple[]",
    components: [
      { name: "side", type: "uint8" },
      { name: "operation", type: "uint8" },
      { name: "contractName", type: "bytes32" },
      { name: "data", type: "bytes" },
    ],
  },
] as const;

/** keccak256(abi.encode(steps)): what an app binds with its transaction id. */
export function planDigest(steps: readonly PlanStep[]): Hex {
  return keccak256(encodeAbiParameters(STEP_TUPLE, [steps.map((s) => ({ ...s }))]));
}

/** The transaction id that binds `steps` to the app's stage-1 signature. */
export function boundTxId(salt: Hex, steps: readonly PlanStep[]): Hex {
  return keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }], [salt, planDigest(steps)]));
}

/** Refuses a plan with source steps whose transaction id does not commit to it. */
export function assertBound(plan: Plan, txId: Hex, salt: unknown): void {
  if (plan.steps.every((s) => s.side === Side.Target)) return;
  if (typeof salt !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(salt))
    throw new PlanError(
      "STEPS_NOT_BOUND",
      'source steps need "salt" (32 bytes) with txId = keccak256(abi.encode(salt, planDigest(steps)))',
      {
        field: "salt",
      },
    );
  const expected = boundTxId(salt as Hex, plan.steps);
  if (expected !== txId.toLowerCase())
    throw new PlanError(
      "STEPS_NOT_BOUND",
      "packet.txId does not commit to these steps: the app did not sign for them",
      {
        field: "packet.txId",
        expected,
      },
    );
  plan.salt = (salt as string).toLowerCase() as Hex;
}

/** The plan's steps as the ledger's `open` takes them. */
export function ledgerSteps(plan: Plan, route: { sourceSubchain: Hex; targetSubchain: Hex }): LedgerStep[] {
  return plan.steps.map((s) => ({
    side: s.side,
    subchain: s.side === Side.Source ? route.sourceSubchain : route.targetSubchain,
    operation: s.operation,
    dependsOn: s.dependsOn ?? NO_DEPENDENCY,
  }));
}

/**
 * The sequence a source step uses on the initiator's gateway: `(packetSequence << 8) | (step + 1)`. The gateway keys
 * inbound records by (pipe, sequence); the target pipe's packets never reach the source gateway, and packet sequences
 * are unique per pipe, so these never collide and each source step executes at most once.
 */
export function sourceSequence(packetSequence: bigint, step: number): bigint {
  return (packetSequence << 8n) | BigInt(step + 1);
}
