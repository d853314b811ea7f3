/**
 * The packets the ledger accepted (`PacketAccepted`), as the attester followed them: a request is answered from this
 * index when its packet is in it. One that is not (opened since the last look: a relayer usually asks before the
 * attester's next look) is searched for by its own indexed topics over the blocks not indexed yet, one call; one not
 * found there is searched for over the whole range before it is refused, so an entry the bound dropped (past
 * `MAX_ENTRIES`, oldest first), or one in blocks a reorganisation replaced after they were indexed, is still found.
 * An entry from blocks a reorganisation replaced stays in the index: the caller reads the transaction's state live,
 * and the governance chain (QBFT) is final.
 *
 * `follow()` indexes the blocks mined since the last look, on the attester's own schedule (concurrent calls share one
 * catch-up). The packets found in blocks after the first catch-up are handed to `onAccepted` (the attester signs them
 * ahead), which the catch-up does not wait for.
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
  private _catchUp: Promise<void> | undefined;

  constructor(
    private readonly _client: PublicClient,
    private readonly _ledger: Address,
    private readonly _fromBlock: bigint,
    private readonly _onAccepted?: (logs: AcceptedLog[]) => void,
  ) {}

  /**
   * Whether the ledger accepted `packetHash` for the packet's transaction, pipe and sequence. One not indexed yet (an
   * open mined since the last look, the usual case of a request that comes before the next look) costs one
   * `eth_getLogs` by the packet's own topics over the blocks not indexed yet, sent at once (in the batch of the
   * caller's other reads) rather than after a catch-up of every open since the last look.
   */
  async has(packet: Pick<Packet, "txId" | "pipeId" | "sequence">, packetHash: Hex): Promise<boolean> {
    const key = keyOf(packet);
    if (this._hashes.get(key)?.has(packetHash) === true) return true;
    // The first look covers history (an attester not started looks once, at its first request).
    if (this._indexedTo === undefined) {
      await this.follow();
      if (this._hashes.get(key)?.has(packetHash) === true) return true;
    } else {
      // From the last block indexed, not the one after: a node refuses a range that starts past its head.
      const fresh = await this._search(packet, this._indexedTo).catch(() => []);
      if (fresh.some((hash) => hash === packetHash)) {
        this._add(key, packetHash);
        return true;
      }
    }
    // Not found: dropped by the bound, or in blocks a reorganisation replaced after they were indexed; the whole range.
    return (await this._search(packet, this._fromBlock)).some((hash) => hash === packetHash);
  }

  /** Indexes the blocks mined since the last look (joining a catch-up under way). */
  async follow(): Promise<void> {
    this._catchUp ??= this._follow();
    const mine = this._catchUp;
    try {
      await mine;
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

  /** The hashes the ledger logged for the packet's transaction, pipe and sequence, from `fromBlock` to the head. */
  private async _search(packet: Pick<Packet, "txId" | "pipeId" | "sequence">, fromBlock: bigint): Promise<Hex[]> {
    const logs = await this._client.getContractEvents({
      address: this._ledger,
      abi: ledgerAbi,
      eventName: "PacketAccepted",
      args: { txId: packet.txId, pipeId: packet.pipeId, sequence: packet.sequence },
      fromBlock,
      strict: true,
    });
    return logs.map((log) => log.args.packetHash);
  }
}
