/**
 * The transaction ledger's enums (generated from contracts/interfaces/ by scripts/gen-enums.ts), its transition table,
 * and the result-set hash verifiers endorse. Free of typechain and hardhat imports, so relayers and scripts can use it.
 */
import { encodeAbiParameters, keccak256, type Hex } from "viem";
import { CcgpError } from "../infra/errors";
import {
  TxState,
  Reason,
  Side,
  VerifierKind,
  RefusalKind,
  PacketField,
  StepProblem,
  Issue,
  Outcome,
} from "./enums.generated";

// The ledger's enums, generated from the compiler's AST.
export { TxState, Reason, Side, VerifierKind, RefusalKind, PacketField, StepProblem, Issue, Outcome };

/** `Step.dependsOn` of a step without dependency. */
export const NO_DEPENDENCY = 255;

/** The states allowed after each state (the contract's LedgerStates table). */
export const ALLOWED_TRANSITIONS: Readonly<Record<TxState, readonly TxState[]>> = {
  [TxState.None]: [TxState.Open],
  [TxState.Open]: [TxState.Executing, TxState.Failed, TxState.Expired, TxState.Manual],
  [TxState.Executing]: [TxState.Executed, TxState.Failed, TxState.Expired, TxState.Manual, TxState.Committing],
  [TxState.Executed]: [TxState.Confirmed, TxState.Manual],
  [TxState.Confirmed]: [],
  [TxState.Failed]: [TxState.Compensating, TxState.Manual],
  [TxState.Compensating]: [TxState.Compensated, TxState.Manual],
  [TxState.Compensated]: [],
  [TxState.Manual]: [TxState.Resolved],
  [TxState.Resolved]: [],
  [TxState.Expired]: [TxState.Compensating, TxState.Manual],
  // Two-phase: every write prepared; each side commits, then the verifiers confirm as for any transaction.
  [TxState.Committing]: [TxState.Executed, TxState.Manual],
};

export const isAllowedTransition = (from: TxState, to: TxState): boolean => ALLOWED_TRANSITIONS[from].includes(to);

/** A step's result as `ITransactionLedger.Result`. */
export interface LedgerResult {
  txId: Hex;
  step: number;
  subchain: Hex;
  subchainTx: Hex;
  blockNumber: bigint;
  resultHash: Hex;
  operation: number;
  success: boolean;
  stateVersion: bigint;
}

const RESULT_TUPLE = [
  {
    type: "tuple",
    components: [
      { name: "txId", type: "bytes32" },
      { name: "step", type: "uint8" },
      { name: "subchain", type: "bytes32" },
      { name: "subchainTx", type: "bytes32" },
      { name: "blockNumber", type: "uint64" },
      { name: "resultHash", type: "bytes32" },
      { name: "operation", type: "uint8" },
      { name: "success", type: "bool" },
      { name: "stateVersion", type: "uint64" },
    ],
  },
] as const;

export const ZERO_HASH: Hex = `0x${"00".repeat(32)}`;

/** keccak256(abi.encode(result)), as the ledger hashes a recorded result. */
export function resultDigest(r: LedgerResult): Hex {
  return keccak256(encodeAbiParameters(RESULT_TUPLE, [r]));
}

/** The result-set hash after `r` is recorded on top of `previous` (ZERO_HASH before the first result). */
export function nextResultSetHash(previous: Hex, r: LedgerResult): Hex {
  return keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }], [previous, resultDigest(r)]));
}

/**
 * The hash verifiers endorse: the hash chain over a transaction's results in the order the ledger recorded them
 * (the order of the `ResultRecorded` logs), failed results included.
 */
export function resultSetHash(results: readonly LedgerResult[]): Hex {
  return results.reduce<Hex>((acc, r) => nextResultSetHash(acc, r), ZERO_HASH);
}

/** A result or compensation as JSON: numbers as decimal strings. */
export interface WireResult {
  txId: Hex;
  step: number;
  subchain: Hex;
  subchainTx: Hex;
  blockNumber: string;
  resultHash: Hex;
  operation: number;
  success: boolean;
  stateVersion: string;
}

export interface WireCompensation {
  txId: Hex;
  step: number;
  subchain: Hex;
  subchainTx: Hex;
  blockNumber: string;
  resultHash: Hex;
  success: boolean;
}

export const wireResult = (r: LedgerResult): WireResult => ({
  ...r,
  blockNumber: r.blockNumber.toString(),
  stateVersion: r.stateVersion.toString(),
});
export const fromWireResult = (r: WireResult): LedgerResult => ({
  ...r,
  blockNumber: BigInt(r.blockNumber),
  stateVersion: BigInt(r.stateVersion),
});

/** One report of a credit contract's `OutcomesReported` log (`contracts/libraries/OutcomeReports.sol`). */
export interface OutcomeRecord {
  institution: number;
  outcome: Outcome;
  txId: Hex;
  /** The change applied, after clamping (score after minus score before). */
  delta: bigint;
  score: bigint;
}

/** Bytes a report: institution (4), outcome (1), txId (32), score before (4) and after (4). */
export const OUTCOME_REPORT_BYTES = 45;

/** A batch log whose packed data is not a whole number of records (not written by these contracts). */
export class BatchLogError extends CcgpError<"BATCH_LOG_MALFORMED"> {}

/** Fixed-width records packed in `packed`, each read by `read` through its `field(offset, bytes)` (lowercase hex). */
function unpack<T>(
  packed: Hex,
  width: number,
  what: string,
  read: (field: (from: number, bytes: number) => string) => T,
) {
  const hex = packed.slice(2);
  if (hex.length % (width * 2) !== 0)
    throw new BatchLogError("BATCH_LOG_MALFORMED", `packed ${what} of ${hex.length / 2} bytes`, { packed });
  const out: T[] = [];
  for (let at = 0; at < hex.length; at += width * 2)
    out.push(read((from, bytes) => hex.slice(at + from * 2, at + (from + bytes) * 2).toLowerCase()));
  return out;
}

/** The reports packed in an `OutcomesReported` log's `reports`, in order. */
export function decodeOutcomeReports(packed: Hex): OutcomeRecord[] {
  return unpack(packed, OUTCOME_REPORT_BYTES, "outcome reports", (field) => {
    const before = BigInt(`0x${field(37, 4)}`);
    const score = BigInt(`0x${field(41, 4)}`);
    return {
      institution: Number.parseInt(field(0, 4), 16),
      outcome: Number.parseInt(field(4, 1), 16) as Outcome,
      txId: `0x${field(5, 32)}` as Hex,
      delta: score - before,
      score,
    };
  });
}

/** One packet a `TxOpened` accepted (its `packets`), as the ledger's former `PacketAccepted` told it. */
export interface AcceptedPacket {
  sequence: bigint;
  packetHash: Hex;
  operation: number;
  selector: Hex;
}

/** Bytes a packet in `TxOpened.packets`: sequence (8), EIP-712 hash (32), operation (1), selector (4). */
export const ACCEPTED_PACKET_BYTES = 45;

/** The packets packed in a `TxOpened` log's `packets`, in order. */
export function decodeAcceptedPackets(packed: Hex): AcceptedPacket[] {
  return unpack(packed, ACCEPTED_PACKET_BYTES, "accepted packets", (field) => ({
    sequence: BigInt(`0x${field(0, 8)}`),
    packetHash: `0x${field(8, 32)}` as Hex,
    operation: Number.parseInt(field(40, 1), 16),
    selector: `0x${field(41, 4)}` as Hex,
  }));
}

/** One record a batch log stands for: the per-item event it replaces, by that event's name and arguments. */
export interface BatchRecord {
  name: string;
  args: Record<string, unknown>;
}

/**
 * The records of a decoded batch log (its event name and arguments), in order; undefined for a log that is not a
 * batch. Every reader of the ledger's and the credit contract's logs goes through this one expansion, so they all
 * see the same per-item records: an `OutcomesReported` is an `OutcomeReported` a report (institution, outcome,
 * txId, delta, score, reporter); a `TxOpened` is a `PacketAccepted` a packet (txId, pipeId, sequence, packetHash,
 * operation, selector), in the order the ledger checked them, then the `TxOpened` itself without its `packets`.
 */
export function batchRecords(name: string, args: Readonly<Record<string, unknown>>): BatchRecord[] | undefined {
  if (name === "TxOpened" && typeof args.packets === "string") {
    const { packets, ...opened } = args;
    const accepted = decodeAcceptedPackets(packets as Hex).map((p) => ({
      name: "PacketAccepted",
      args: { txId: args.txId, pipeId: args.pipeId, ...p },
    }));
    return [...accepted, { name: "TxOpened", args: opened }];
  }
  if (name === "OutcomesReported")
    return decodeOutcomeReports(args.reports as Hex).map((r) => ({
      name: "OutcomeReported",
      args: { ...r, reporter: args.reporter },
    }));
  return undefined;
}
