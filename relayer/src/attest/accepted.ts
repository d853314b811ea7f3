/**
 * The packets the ledger accepted (the `packets` of each `TxOpened`), as the attester followed them: a request is
 * answered from this index when its packet is in it. One that is not (opened since the last block the subscription
 * delivered) is searched for by its transaction and pipe (the open's indexed topics) over the blocks not indexed yet,
 * one call, and kept by its sequence; one not found there is searched
 * for over the whole range before it is refused, so an entry the bound dropped (past `MAX_ENTRIES`, oldest first), or
 * one in blocks a reorganisation replaced after they were indexed, is still found. An entry from blocks a
 * reorganisation replaced stays in the index: the caller reads the transaction's state live, and the governance chain
 * (QBFT) is final.
 *
 * The blocks come from the attester's subscription to the ledger (`add`, in order); every read goes through the chain
 * plugin.
 */
import { getAbiItem, type Address, type Hex } from "viem";
import { ledgerAbi } from "../../../lib/abi/contracts";
import type { Packet } from "../../../lib/amdp";
import { decodeAcceptedPackets } from "../../../lib/domain/ledger-types";
import type { ChainEvents, ChainLog } from "../chains";

/** `ITransactionLedger.TxOpened`, the one event read here (from the ABI generated at compile). */
export const TX_OPENED = getAbiItem({ abi: ledgerAbi, name: "TxOpened" });

const MAX_ENTRIES = 100_000;

/** One packet an open accepted, with the governance transaction that opened it. */
export interface AcceptedLog {
  txId: Hex;
  pipeId: Hex;
  sequence: bigint;
  packetHash: Hex;
  transactionHash: Hex;
}

/** The packets of a `TxOpened` log as the plugin decoded it (the subscription and the searches name the event). */
export function acceptedLogs(log: ChainLog): AcceptedLog[] {
  const args = log.args as { txId: Hex; pipeId: Hex; packets: Hex };
  return decodeAcceptedPackets(args.packets).map((p) => ({
    txId: args.txId,
    pipeId: args.pipeId,
    sequence: p.sequence,
    packetHash: p.packetHash,
    transactionHash: log.transactionHash,
  }));
}

const keyOf = (p: Pick<Packet, "txId" | "pipeId" | "sequence">) =>
  `${p.txId.toLowerCase()}:${p.pipeId.toLowerCase()}:${p.sequence}`;

export class AcceptedPackets {
  private readonly _hashes = new Map<string, Set<Hex>>();
  /** The last block indexed (all of `[fromBlock, indexedTo]` is in the index, up to dropped entries). */
  private _indexedTo: bigint | undefined;

  constructor(
    private readonly _chain: Pick<ChainEvents, "events">,
    private readonly _ledger: Address,
    private readonly _fromBlock: bigint,
  ) {}

  /** The last block indexed; undefined before the first. */
  get indexedTo(): bigint | undefined {
    return this._indexedTo;
  }

  /** Indexes the opens of block `height` (blocks come in order; `logs` are the packets of its `TxOpened`). */
  add(height: bigint, logs: readonly AcceptedLog[]): void {
    for (const log of logs) this._add(keyOf(log), log.packetHash);
    if (this._indexedTo === undefined || height > this._indexedTo) this._indexedTo = height;
  }

  /**
   * Whether the ledger accepted `packetHash` for the packet's transaction, pipe and sequence. One not indexed yet (an
   * open mined since the last block delivered) costs one `eth_getLogs` by the packet's transaction and pipe topics
   * over the blocks not indexed yet, sent at once (in the batch of the caller's other reads).
   */
  async has(packet: Pick<Packet, "txId" | "pipeId" | "sequence">, packetHash: Hex): Promise<boolean> {
    const key = keyOf(packet);
    const hash = packetHash.toLowerCase() as Hex;
    if (this._hashes.get(key)?.has(hash) === true) return true;
    if (this._indexedTo !== undefined) {
      // From the last block indexed, not the one after: a node refuses a range that starts past its head.
      const fresh = await this._search(packet, this._indexedTo).catch((): Hex[] => []);
      if (fresh.includes(hash)) {
        this._add(key, hash);
        return true;
      }
    }
    // Not found: not followed yet, dropped by the bound, or in blocks a reorganisation replaced; the whole range.
    if (!(await this._search(packet, this._fromBlock)).includes(hash)) return false;
    this._add(key, hash);
    return true;
  }

  private _add(key: string, packetHash: Hex): void {
    const hash = packetHash.toLowerCase() as Hex;
    const set = this._hashes.get(key);
    if (set !== undefined) set.add(hash);
    else this._hashes.set(key, new Set([hash]));
    if (this._hashes.size > MAX_ENTRIES) this._hashes.delete(this._hashes.keys().next().value!);
  }

  /** The hashes the ledger logged for the packet's transaction, pipe and sequence, from `fromBlock` to the head. */
  private async _search(packet: Pick<Packet, "txId" | "pipeId" | "sequence">, fromBlock: bigint): Promise<Hex[]> {
    const logs = await this._chain.events({
      address: this._ledger,
      event: TX_OPENED,
      args: { txId: packet.txId, pipeId: packet.pipeId },
      fromBlock,
      toBlock: "latest",
    });
    return logs
      .flatMap(acceptedLogs)
      .filter((a) => a.sequence === packet.sequence)
      .map((a) => a.packetHash.toLowerCase() as Hex);
  }
}
