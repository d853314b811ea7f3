/**
 * Mirrors of the transaction ledger's enums (contracts/interfaces/ITransactionLedger.sol), its transition table, and
 * the result-set hash verifiers endorse. Free of typechain and hardhat imports, so relayers and scripts can use it.
 */
import { encodeAbiParameters, keccak256, type Hex } from "viem";

export enum TxState {
  None = 0,
  Open = 1,
  Executing = 2,
  Executed = 3,
  Confirmed = 4,
  Failed = 5,
  Compensating = 6,
  Compensated = 7,
  Manual = 8,
  Resolved = 9,
  Expired = 10,
}

export enum Reason {
  None = 0,
  StepFailed = 1,
  StaleRead = 2,
  Expired = 3,
  Conflict = 4,
  Escalated = 5,
  CompensationFailed = 6,
}

export enum Side {
  Source = 0,
  Target = 1,
}

export enum VerifierKind {
  None = 0,
  Auditor = 1,
  Service = 2,
}

export enum RefusalKind {
  BadSignature = 0,
  Replay = 1,
}

export enum PacketField {
  PipeId = 0,
  TxId = 1,
  SourceInstitution = 2,
  TargetInstitution = 3,
  TargetService = 4,
  ContractName = 5,
}

export enum StepProblem {
  InvalidOperation = 0,
  SubchainMismatch = 1,
  NoPacket = 2,
  OperationMismatch = 3,
  InvalidDependency = 4,
}

export enum Issue {
  None = 0,
  Overdue = 1,
  Uncompensated = 2,
  Abnormal = 3,
  Disputed = 4,
}

/** `ICreditScore.Outcome`: what the ledger reports of each institution when a transaction ends. */
export enum Outcome {
  Completed = 0,
  Failed = 1,
  TimedOut = 2,
  BadSignature = 3,
  Replay = 4,
}

/** `Step.dependsOn` of a step without dependency. */
export const NO_DEPENDENCY = 255;

/** The states allowed after each state (the contract's LedgerStates table). */
export const ALLOWED_TRANSITIONS: Readonly<Record<TxState, readonly TxState[]>> = {
  [TxState.None]: [TxState.Open],
  [TxState.Open]: [TxState.Executing, TxState.Failed, TxState.Expired, TxState.Manual],
  [TxState.Executing]: [TxState.Executed, TxState.Failed, TxState.Expired, TxState.Manual],
  [TxState.Executed]: [TxState.Confirmed, TxState.Manual],
  [TxState.Confirmed]: [],
  [TxState.Failed]: [TxState.Compensating, TxState.Manual],
  [TxState.Compensating]: [TxState.Compensated, TxState.Manual],
  [TxState.Compensated]: [],
  [TxState.Manual]: [TxState.Resolved],
  [TxState.Resolved]: [],
  [TxState.Expired]: [TxState.Compensating, TxState.Manual],
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
  return keccak256(
    encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }], [previous, resultDigest(r)]),
  );
}

/**
 * The hash verifiers endorse: the hash chain over a transaction's results in the order the ledger recorded them
 * (the order of the `ResultRecorded` logs), failed results included.
 */
export function resultSetHash(results: readonly LedgerResult[]): Hex {
  return results.reduce<Hex>((acc, r) => nextResultSetHash(acc, r), ZERO_HASH);
}
