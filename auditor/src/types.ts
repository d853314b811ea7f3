import type { Address, Hex } from "viem";

/** A JSON value as stored in the index (uint64 and wider as decimal strings, bytes as 0x-hex). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One decoded governance event, as the indexer writes it. */
export interface EventRow {
  block: number;
  logIndex: number;
  txHash: Hex;
  blockHash: Hex;
  /** Block time, unix seconds. */
  timestamp: number;
  /** The contract's key (`membership`, `ledger`, ...; see `GOVERNANCE_CONTRACTS`). */
  contract: string;
  address: Address;
  /** The event's name; `Unknown` when the contract's ABI has no event with its topic 0. */
  event: string;
  args: Record<string, JsonValue>;
  /** The indexed columns, taken from the arguments (null when the event has none). */
  txId: Hex | null;
  pipeId: Hex | null;
  institution: number | null;
  account: Address | null;
  /**
   * The ledger state the event moves a transaction to (TxOpened: Open; TxTransitioned: `to`; ResultRecorded and
   * Endorsed: `to`, the moves of the normal path, null when they made none).
   */
  state: number | null;
  /** The record's place in a batch log (`OutcomesReported`: one row a report); absent for a plain log. */
  position?: number;
}

/** An AMDP packet recovered from the calldata of `open` or `reportRefusal`, with who signed it. */
export interface PacketRow {
  /** The event it belongs to (TxOpened or RefusalRecorded). */
  block: number;
  logIndex: number;
  position: number;
  kind: "open" | "refusal";
  txId: Hex;
  pipeId: Hex;
  sequence: string;
  packetHash: Hex;
  /** The packet's fields (uint64 as decimal strings). */
  packet: Record<string, JsonValue>;
  appSignature: Hex;
  proxySignature: Hex;
  /** `packet.signer`: the application key the packet claims. */
  declaredSigner: Address;
  /** Who produced the stage-1 signature (null: malformed). */
  appSigner: Address | null;
  /** The proxy the countersignature names (the opener, or the pipe's source signer for a refusal). */
  proxyClaimed: Address | null;
  /** Who produced the stage-2 signature over that claim (null: malformed). */
  proxySigner: Address | null;
  /** What is wrong with the packet's signatures, if anything. */
  problem: string | null;
}

/** One block as the indexer commits it: its events and the packets recovered for them. */
export interface IndexedBlock {
  height: number;
  hash: Hex;
  timestamp: number;
  events: EventRow[];
  packets: PacketRow[];
  /** Why the packets of an event could not be recovered (e.g. opened through a contract). */
  packetNotes?: PacketNote[];
}

export interface Checkpoint {
  height: number;
  hash: Hex;
  timestamp: number;
}

/** What the index was built for: a second run on other contracts or another chain is refused. */
export interface IndexIdentity {
  chainId: number;
  contracts: Record<string, Address>;
}

export interface PacketNote {
  block: number;
  logIndex: number;
  note: string;
}
