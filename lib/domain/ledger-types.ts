/**
 * The transaction ledger's enums (generated from contracts/interfaces/ by scripts/gen-enums.ts), its transition table,
 * and the result-set hash verifiers endorse. Free of typechain and hardhat imports, so relayers and scripts can use it.
 */
import { encodeAbiParameters, keccak256, type Hex } from "viem";
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
