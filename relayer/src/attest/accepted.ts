/**
 * The packets the ledger accepted (`PacketAccepted`), as the attester followed them: each request is answered from
 * this index, and only the blocks mined since the last look are searched, instead of every block from the ledger's
 * deployment. Concurrent requests share one catch-up. A packet not found after the catch-up that began after the
 * request arrived is searched for by its own indexed topics over the whole range before it is refused: so an entry
 * the bound dropped (past `MAX_ENTRIES`, oldest first), or one in blocks a reorganisation replaced after they were
 * indexed, is still found, and only a miss pays for the full search. An entry from blocks a reorganisation replaced
 * stays in the index: the caller reads the transaction's state live, and the governance chain (QBFT) is final.
 *
 * `follow()` runs the same catch-up on the attester's own schedule. The packets found in blocks after the first
 * catch-up are handed to `onAccepted` (the attester signs them ahead), which the catch-up does not wait for: a
 * request waiting for it only needs the index.
 */
import { parseAbi, type Address, type Hex, type PublicClient } from "viem";
import type { Packet } from "../../../lib/amdp";

/** `ITransactionLedger.PacketAccepted`, the one event read here. */
const ledgerAbi = parseAbi([
  "event PacketAccepted(bytes32 indexed txId, bytes32 indexed pipeId, uint64 indexed sequence, bytes32 packetHash, uint8 operation, bytes4 selector)",
]);

const MAX_ENTRIES = 100_000;
/** Blocks per `eth_getLogs` while catching up (nodes cap the range). */
const RANGE = 5_000n;

/** One `PacketAccepted`, with the governance transaction that opened it. */
export interface AcceptedLog {
  txId: Hex;
  pipeId: Hex;
  sequence: bigint;
  packetHash: Hex;
  transactionHash: Hex;
}

const keyOf = (p: Pick<Packet, "txId" | "pipeId" | "sequence">) =>
  `${p.txId.toLowerCase()}:${p.pipeId.toLowerCase()}:${p.sequence}`;

export class AcceptedPackets {
  private readonly _hashes = new Map<string, Set<Hex>>();
  /** The last block searched (all of `[fromBlock, indexedTo]` is in the index, up to dropped entries). */
  private _indexedTo: bigint | undefined;
  private _catchUp: { started: number; done: Promise<void> } | undefined;
  private _requests = 0;

  constructor(
    private readonly _client: PublicClient,
    private readonly _ledger: Address,
    private readonly _fromBlock: bigint,
    private readonly _onAccepted?: (logs: AcceptedLog[]) => void,
  ) {}

  /** Whether the ledger accepted `packetHash` for the packet's transaction, pipe and sequence. */
  async has(packet: Pick<Packet, "txId" | "pipeId" | "sequence">, packetHash: Hex): Promise<boolean> {
    const key = keyOf(packet);
    const known = () => this._hashes.get(key)?.has(packetHash) === true;
    if (known()) return true;
    const arrived = ++this._requests;
    // A catch-up that started before this request may end before the packet's block: wait for one that did not.
    while (this._catchUp !== undefined && this._catchUp.started < arrived) await this._catchUp.done.catch(() => {});
    if (known()) return true;
    await this.follow();
    if (known()) return true;
    return this._searchAll(packet, packetHash);
  }

  /** Indexes the blocks mined since the last look (joining a catch-up under way). */
  async follow(): Promise<void> {
    this._catchUp ??= { started: ++this._requests, done: this._follow() };
    const mine = this._catchUp;
    try {
      await mine.done;
    } finally {
      if (this._catchUp === mine) this._catchUp = undefined;
    }
  }

  private async _follow(): Promise<void> {
    const head = await this._client.getBlockNumber({ cacheTime: 0 });
    // The first look covers history: nothing in it is signed ahead (a request for it takes the on-demand path).
    const first = this._indexedTo === undefined;
    const from = first ? this._fromBlock : this._indexedTo! + 1n;
    const fresh: AcceptedLog[] = [];
    for (let start = from; start <= head; start += RANGE) {
      const to = start + RANGE - 1n < head ? start + RANGE - 1n : head;
      const logs = await this._client.getContractEvents({
        address: this._ledger,
        abi: ledgerAbi,
        eventName: "PacketAccepted",
        fromBlock: start,
        toBlock: to,
        strict: true,
      });
      for (const log of logs) {
        this._add(keyOf(log.args), log.args.packetHash);
        if (!first) fresh.push({ ...log.args, transactionHash: log.transactionHash });
      }
      this._indexedTo = to;
    }
    if (fresh.length > 0) this._onAccepted?.(fresh);
  }

  private _add(key: string, hash: Hex): void {
    const set = this._hashes.get(key);
    if (set !== undefined) set.add(hash);
    else this._hashes.set(key, new Set([hash]));
    if (this._hashes.size > MAX_ENTRIES) {
      this._hashes.delete(this._hashes.keys().next().value!);
    }
  }

  /** The slow path for a miss: the packet's own logs, over the whole range. */
  private async _searchAll(packet: Pick<Packet, "txId" | "pipeId" | "sequence">, hash: Hex): Promise<boolean> {
    const logs = await this._client.getContractEvents({
      address: this._ledger,
      abi: ledgerAbi,
      eventName: "PacketAccepted",
      args: { txId: packet.txId, pipeId: packet.pipeId, sequence: packet.sequence },
      fromBlock: this._fromBlock,
      strict: true,
    });
    return logs.some((log) => log.args.packetHash === hash);
  }
}
