/**
 * The durable work items of the transaction driver: one type and one constructor per kind. Every item id is built
 * here, so that a second enqueue of the same work finds the first (the outbox keys on the id) and nothing else needs
 * to know an id's shape. The stored shape is plain JSON (numbers as decimal strings) and has not changed since items
 * were first written: stores written before this module load as they are.
 */
import type { Address, Hex } from "viem";
import type { WireSignedPacket } from "../../../lib/amdp";
import type { WireResult } from "../../../lib/domain/ledger-types";
import type { LedgerOp } from "../governance/writer";
import type { OutboxInput, OutboxItem } from "../store";

/** Which side of a transaction this relayer plays. */
export type Role = "initiator" | "receiver";

/** A `CrossChainRequested` event as stored in the outbox (numbers as decimal strings). */
export interface ChainRequest {
  type: "chain-request";
  chain: string;
  requestId: Hex;
  pipeId: Hex;
  sender: Address;
  contractName: Hex;
  operation: number;
  payload: Hex;
  nonce: string;
  blockNumber: string;
}

/** A step of a transaction on this relayer's side (the initiator's source steps, the receiver's target step). */
interface StepRef {
  txId: Hex;
  step: number;
  role: Role;
}

export type OpenWork = { type: "open"; txId: Hex };
export type StepWork = { type: "step" } & StepRef;
export type RecordWork = { type: "record"; result: WireResult } & StepRef;
export type DeliverWork = { type: "deliver"; txId: Hex };
export type UndoWork = { type: "undo" } & StepRef;
export type CompensateWork = { type: "compensate" } & StepRef;
/** Commit this relayer's prepared two-phase write (the ledger is Committing) and record the commit. */
export type CommitWork = { type: "commit" } & StepRef;
export type VerifyWork = { type: "verify"; txId: Hex };
export type LedgerWork = { type: "ledger"; ledger: LedgerOp };

export type WorkItem =
  | OpenWork
  | StepWork
  | RecordWork
  | DeliverWork
  | UndoWork
  | CompensateWork
  | CommitWork
  | VerifyWork
  | LedgerWork
  | ChainRequest;

export type WorkType = WorkItem["type"];
export type WorkOf<T extends WorkType> = Extract<WorkItem, { type: T }>;

/** A work item ready for the outbox. */
export interface WorkInput<W extends WorkItem = WorkItem> extends OutboxInput {
  payload: W;
}

const prefixOf = (role: Role): string => (role === "initiator" ? "tx" : "rx");

const input = <W extends WorkItem>(id: string, kind: OutboxInput["kind"], payload: W): WorkInput<W> => ({
  id,
  kind,
  payload,
});

/** The id of a step's result recording (to find it without the result it carries). */
export const recordId = (role: Role, txId: Hex, step: number): string => `${prefixOf(role)}:${txId}:record:${step}`;

/** The constructors: the only place an item or its id is built. */
export const work = {
  /** Open the journaled transaction on the ledger; `attempt` names a re-open after a reorg undid the first. */
  open: (txId: Hex, attempt?: number): WorkInput<OpenWork> =>
    input(attempt === undefined ? `tx:${txId}:open` : `tx:${txId}:reopen:${attempt}`, "ledger-write", {
      type: "open",
      txId,
    }),
  step: (role: Role, txId: Hex, step: number): WorkInput<StepWork> =>
    input(`${prefixOf(role)}:${txId}:exec:${step}`, "packet", { type: "step", txId, step, role }),
  record: (role: Role, txId: Hex, step: number, result: WireResult): WorkInput<RecordWork> =>
    input(recordId(role, txId, step), "ledger-write", { type: "record", txId, step, role, result }),
  deliver: (txId: Hex): WorkInput<DeliverWork> => input(`tx:${txId}:deliver`, "packet", { type: "deliver", txId }),
  undo: (role: Role, txId: Hex, step: number): WorkInput<UndoWork> =>
    input(`${prefixOf(role)}:${txId}:undo:${step}`, "packet", { type: "undo", txId, step, role }),
  compensate: (role: Role, txId: Hex, step: number): WorkInput<CompensateWork> =>
    input(`${prefixOf(role)}:${txId}:compensate:${step}`, "packet", { type: "compensate", txId, step, role }),
  commit: (role: Role, txId: Hex, step: number): WorkInput<CommitWork> =>
    input(`${prefixOf(role)}:${txId}:commit:${step}`, "packet", { type: "commit", txId, step, role }),
  verify: (txId: Hex): WorkInput<VerifyWork> => input(`verify:${txId}`, "ledger-write", { type: "verify", txId }),
  escalate: (txId: Hex, reason: string): WorkInput<LedgerWork> =>
    input(`escalate:${txId}`, "ledger-write", { type: "ledger", ledger: { op: "escalate", txId, reason } }),
  expire: (txId: Hex): WorkInput<LedgerWork> =>
    input(`expire:${txId}`, "ledger-write", { type: "ledger", ledger: { op: "expire", txId } }),
  /** A refused packet reported to the ledger, once per packet (`packetHash`). */
  reportRefusal: (packetHash: Hex, packet: WireSignedPacket): WorkInput<LedgerWork> =>
    input(`refusal:${packetHash}`, "ledger-write", { type: "ledger", ledger: { op: "reportRefusal", packet } }),
  /** A confirmed `CrossChainRequested` event of the gateway on `request.chain`. */
  chainRequest: (request: Omit<ChainRequest, "type">): WorkInput<ChainRequest> =>
    input(`req:${request.chain}:${request.requestId}`, "packet", { type: "chain-request", ...request }),
} as const;

const TYPES: ReadonlySet<string> = new Set<WorkType>([
  "open",
  "step",
  "record",
  "deliver",
  "undo",
  "compensate",
  "commit",
  "verify",
  "ledger",
  "chain-request",
]);
const ROLES: ReadonlySet<unknown> = new Set<Role>(["initiator", "receiver"]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const isHex = (v: unknown): v is Hex => typeof v === "string" && v.startsWith("0x");
const isStepRef = (p: Record<string, unknown>): boolean =>
  isHex(p.txId) && Number.isInteger(p.step) && ROLES.has(p.role);

/**
 * Whether a stored payload is a work item of this relayer: its kind is known and it has the fields its handler reads
 * first. The store is this relayer's own, so this guards against an item of another version, not an attacker.
 */
export function isWorkItem(payload: unknown): payload is WorkItem {
  if (!isObject(payload) || typeof payload.type !== "string" || !TYPES.has(payload.type)) return false;
  switch (payload.type) {
    case "open":
    case "deliver":
    case "verify":
      return isHex(payload.txId);
    case "step":
    case "undo":
    case "compensate":
    case "commit":
      return isStepRef(payload);
    case "record":
      return isStepRef(payload) && isObject(payload.result);
    case "ledger":
      return isObject(payload.ledger) && typeof payload.ledger.op === "string";
    default:
      return typeof payload.chain === "string" && isHex(payload.requestId) && isHex(payload.pipeId);
  }
}

/** The work item a stored outbox item holds; `null` if its payload is none this relayer knows. */
export const workOf = (item: Pick<OutboxItem, "payload">): WorkItem | null =>
  isWorkItem(item.payload) ? item.payload : null;

export const isWorkOf = <T extends WorkType>(item: WorkItem, type: T): item is WorkOf<T> => item.type === type;

/** The transaction an item belongs to and this relayer's role in it, if it names one. */
export function txOf(item: WorkItem): { txId: Hex; role?: Role } | null {
  switch (item.type) {
    case "ledger":
    case "chain-request":
      return null;
    case "step":
    case "record":
    case "undo":
    case "compensate":
    case "commit":
      return { txId: item.txId, role: item.role };
    default:
      return { txId: item.txId };
  }
}
