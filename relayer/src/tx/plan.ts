/**
 * A transaction's plan: its atomic steps. The target step is the packet's (its contract name, operation and payload)
 * and comes last; source steps run before it, in the order given, on the initiator's own sub-chain through its
 * gateway (so a failed target step leaves completed source writes for the rollback to undo).
 *
 * Source steps are not in the signed packet, so an app binds them to its stage-1 signature through the transaction
 * id: `txId = keccak256(abi.encode(salt, planDigest(steps)))` (`boundTxId`). A plan with source steps whose txId is
 * not bound this way is refused (`STEPS_NOT_BOUND`): the relayer never runs a write the app did not sign for.
 */
import { encodeAbiParameters, keccak256, toHex, type Hex } from "viem";
import { z } from "zod";
import type { Packet } from "../../../lib/amdp";
import { CcgpError } from "../../../lib/infra/errors";
import { NO_DEPENDENCY, Side } from "../../../lib/domain/ledger-types";

/** At most this many steps (the ledger's MAX_STEPS). */
export const MAX_STEPS = 8;

export interface PlanStep {
  side: Side;
  /** 0 read, 1 write. */
  operation: number;
  /** keccak256 of the business contract's name (the packet's for the target step). */
  contractName: Hex;
  /** The business calldata (the packet's payload for the target step). */
  data: Hex;
}

export interface Plan {
  steps: PlanStep[];
  /** Index of the target step (the packet's). */
  target: number;
  /** The salt the transaction id binds the steps with (plans with source steps): attesters check the binding. */
  salt?: Hex;
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
  z.strictObject({ side: z.literal("target") }),
  z.strictObject({
    side: z.literal("source"),
    operation,
    /** The business contract's registered name on the initiator's gateway (not its hash). */
    contract: z.string().min(1).max(256),
    data: hex.refine((d) => d.length >= 10, "expected calldata with a function selector"),
  }),
]);
export const stepsSchema = z.array(stepSchema).min(1).max(MAX_STEPS);
export type StepInput = z.input<typeof stepSchema>;

/** Builds the plan of an app request: `steps` as given (default: the packet's target step alone). */
export function planOf(packet: Packet, payload: Hex, steps: unknown): Plan {
  if (steps === undefined) return { steps: [targetStep(packet, payload)], target: 0 };
  const parsed = stepsSchema.safeParse(steps);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ["steps", ...issue.path].join(".");
    throw new PlanError("STEPS_INVALID", `request field "${field}" is invalid: ${issue.message}`, { field });
  }
  const targets = parsed.data.filter((s) => s.side === "target").length;
  if (targets !== 1)
    throw new PlanError("STEPS_INVALID", `steps must hold exactly one target step (the packet's), got ${targets}`, {
      field: "steps",
    });
  const out: PlanStep[] = parsed.data.map((s) =>
    s.side === "target"
      ? targetStep(packet, payload)
      : {
          side: Side.Source,
          operation: s.operation === "read" || s.operation === 0 ? 0 : 1,
          contractName: keccak256(toHex(s.contract)),
          data: s.data.toLowerCase() as Hex,
        },
  );
  if (out[out.length - 1]!.side !== Side.Target)
    throw new PlanError("STEPS_INVALID", "the target step (the packet's) must be the last step", { field: "steps" });
  if (out.some((s) => s.side === Side.Source) && packet.sequence >= 1n << 56n)
    throw new PlanError("STEPS_INVALID", "a transaction with source steps needs packet.sequence below 2^56", {
      field: "packet.sequence",
    });
  return { steps: out, target: out.findIndex((s) => s.side === Side.Target) };
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
    throw new PlanError("STEPS_NOT_BOUND", 'source steps need "salt" (32 bytes) with txId = keccak256(abi.encode(salt, planDigest(steps)))', {
      field: "salt",
    });
  const expected = boundTxId(salt as Hex, plan.steps);
  if (expected !== txId.toLowerCase())
    throw new PlanError("STEPS_NOT_BOUND", "packet.txId does not commit to these steps: the app did not sign for them", {
      field: "packet.txId",
      expected,
    });
  plan.salt = (salt as string).toLowerCase() as Hex;
}

/** The plan's steps as the ledger's `open` takes them. */
export function ledgerSteps(plan: Plan, route: { sourceSubchain: Hex; targetSubchain: Hex }): LedgerStep[] {
  return plan.steps.map((s) => ({
    side: s.side,
    subchain: s.side === Side.Source ? route.sourceSubchain : route.targetSubchain,
    operation: s.operation,
    dependsOn: NO_DEPENDENCY,
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
