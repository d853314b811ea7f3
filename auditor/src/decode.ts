/**
 * Turns raw governance logs into index rows: decoded with the contract's ABI, made JSON-safe, and the indexed
 * columns (tx id, pipe id, institution, account, state) taken from the arguments by name.
 */
import { decodeEventLog, getAddress, type Abi, type AbiEvent, type Address, type Hex } from "viem";
import type { ChainLog } from "../../lib/chain/types";
import { TxState, batchRecords } from "../../lib/domain/ledger-types";
import { eventsByTopic, type ContractKey } from "./abi";
import type { EventRow, JsonValue } from "./types";

/** Argument names that name the account that acted or is concerned, in order of preference. */
const ACCOUNT_ARGS = [
  "account",
  "verifier",
  "recorder",
  "opener",
  "voter",
  "governor",
  "actor",
  "by",
  "operator",
  "proposer",
  "reporter",
  "auditor",
  "requester",
  "applicant",
  "admin",
  "registrar",
  "newSigner",
  "signer",
  "key",
] as const;

const INSTITUTION_ARGS = ["institution", "sourceInstitution"] as const;

/** bigint as a decimal string, structs and arrays recursively (viem already checksums addresses). */
export function toJsonValue(value: unknown): JsonValue {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean" || value === null)
    return value;
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === "object")
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toJsonValue(v)]));
  return String(value);
}

interface ContractDecoder {
  key: ContractKey;
  events: Map<Hex, AbiEvent>;
}

/** Decodes the logs of the governance contracts, by address. */
export class EventDecoder {
  private readonly _byAddress = new Map<string, ContractDecoder>();

  constructor(contracts: Partial<Record<ContractKey, Address>>, abis: Record<ContractKey, Abi>) {
    for (const [key, address] of Object.entries(contracts) as [ContractKey, Address][])
      this._byAddress.set(address.toLowerCase(), { key, events: eventsByTopic(abis[key]) });
  }

  get addresses(): Address[] {
    return [...this._byAddress.keys()].map((a) => getAddress(a));
  }

  /**
   * The rows of one log: one for a plain log, one a record for a batch log (`OutcomesReported`; a `TxOpened` is its
   * packets' `PacketAccepted` and itself), each named and shaped as the per-item event it stands for, with its
   * position in the log.
   */
  decodeAll(log: ChainLog, timestamp: number): EventRow[] {
    const row = this.decode(log, timestamp);
    const records = row.event === "Unknown" ? undefined : batchRecords(row.event, row.args);
    if (records === undefined) return [row];
    return records.map((r, position) => {
      const args = toJsonValue(r.args) as Record<string, JsonValue>;
      return { ...row, event: r.name, args, ...columnsOf(row.contract, r.name, args), position };
    });
  }

  /** The row of one log; a log the ABI does not know (or cannot decode) is kept as `Unknown` with its raw data. */
  decode(log: ChainLog, timestamp: number): EventRow {
    const contract = this._byAddress.get(log.address.toLowerCase());
    const base = {
      block: Number(log.blockNumber),
      logIndex: log.logIndex,
      txHash: log.transactionHash,
      blockHash: log.blockHash,
      timestamp,
      contract: contract?.key ?? "unknown",
      address: getAddress(log.address),
    };
    const abiEvent = contract?.events.get(log.topics[0] as Hex);
    const decoded = abiEvent === undefined ? undefined : tryDecode(abiEvent, log);
    if (decoded === undefined)
      return { ...base, event: "Unknown", args: { topics: [...log.topics], data: log.data }, ...NO_COLUMNS };
    const args = toJsonValue(decoded) as Record<string, JsonValue>;
    return { ...base, event: abiEvent!.name, args, ...columnsOf(base.contract, abiEvent!.name, args) };
  }
}

const NO_COLUMNS = { txId: null, pipeId: null, institution: null, account: null, state: null };

function tryDecode(abiEvent: AbiEvent, log: ChainLog): Record<string, unknown> | undefined {
  try {
    const { args } = decodeEventLog({
      abi: [abiEvent],
      topics: log.topics as [Hex, ...Hex[]],
      data: log.data,
      strict: true,
    });
    return (args ?? {}) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const asHex = (v: JsonValue | undefined): Hex | null =>
  typeof v === "string" && v.startsWith("0x") ? (v.toLowerCase() as Hex) : null;
const asNumber = (v: JsonValue | undefined): number | null =>
  typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : null;

/** The ledger events whose `to` moves a transaction. */
const MOVES = new Set(["TxTransitioned", "ResultRecorded", "Endorsed"]);

/** The indexed columns of an event, from its argument names. */
export function columnsOf(
  contract: string,
  event: string,
  args: Record<string, JsonValue>,
): Pick<EventRow, "txId" | "pipeId" | "institution" | "account" | "state"> {
  let institution: number | null = null;
  for (const name of INSTITUTION_ARGS) institution ??= asNumber(args[name]);
  // Membership names its institutions `id` (a proposal's id elsewhere).
  if (institution === null && contract === "membership" && /^(Genesis)?Institution/.test(event))
    institution = asNumber(args.id);
  let account: Address | null = null;
  for (const name of ACCOUNT_ARGS) {
    const v = args[name];
    if (account === null && typeof v === "string" && v.length === 42 && v.startsWith("0x")) account = v as Address;
  }
  let state: number | null = null;
  // `to` of TxTransitioned, and of ResultRecorded and Endorsed on the normal path (0 there: no move).
  if (contract === "ledger" && MOVES.has(event)) state = asNumber(args.to) || null;
  if (contract === "ledger" && event === "TxOpened") state = TxState.Open;
  const txId = asHex(args.txId);
  return {
    txId: txId === null || /^0x0{64}$/.test(txId) ? null : txId,
    pipeId: asHex(args.pipeId),
    institution,
    account,
    state,
  };
}
