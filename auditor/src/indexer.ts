/**
 * Indexes every event of the governance contracts into the auditor's store. It follows the chain with the
 * relayer's `ConfirmedLogFollower` (bounded ranges behind a confirmation depth, reorgs detected by block hash and
 * rewound), decodes each block's logs with the contracts' ABIs, reads the packets back from the calldata of
 * `open` / `reportRefusal`, and commits the block with its checkpoint in one SQLite transaction.
 */
import {
  BaseError,
  BlockNotFoundError,
  ResponseBodyTooLargeError,
  getAddress,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { packetDomain } from "../../lib/amdp";
import { ConfirmedLogFollower, sleep, type LogSource } from "../../lib/chain/follow";
import type { ChainLog, PollInfo, SubscriptionEvent } from "../../lib/chain/types";
import { silentLogger, type Logger } from "../../lib/infra/log";
import { governanceAbis, type ContractKey } from "./abi";
import { EventDecoder } from "./decode";
import { AuditorError, AuditorErrorCode } from "./errors";
import { PacketRecovery } from "./packets";
import type { IndexStore } from "./store";
import type { EventRow, IndexedBlock, PacketNote, PacketRow } from "./types";

export interface IndexerOptions {
  /** The governance chain. */
  client: PublicClient;
  store: IndexStore;
  /** The governance contracts to index (the ledger is needed for packets). */
  contracts: Partial<Record<ContractKey, Address>>;
  /** First block to index on a fresh index (the deployment block; default 0). */
  fromBlock?: number;
  /** Blocks an event must be buried under before it is indexed (default 2). */
  confirmations?: number;
  /** Blocks per `eth_getLogs` (default 1,000). */
  maxBlockRange?: number;
  pollIntervalMs?: number;
  /** Blocks remembered by hash for reorg checks (default 256, as the store). */
  reorgWindow?: number;
  artifactsDir?: string;
  logger?: Logger;
  /** Called after each committed block (progress lines, tests). */
  onBlock?: (block: { height: number; events: number }) => void;
}

export interface IndexProgress {
  checkpoint: number | null;
  events: number;
}

/** The governance chain as the follower reads it; remembers block times as it fetches hashes. */
class GovernanceLogSource implements LogSource {
  private readonly _times = new Map<string, number>();

  constructor(
    private readonly _client: PublicClient,
    private readonly _addresses: Address[],
  ) {}

  head(): Promise<bigint> {
    return this._client.getBlockNumber({ cacheTime: 0 });
  }

  async blockHash(height: bigint): Promise<Hex | null> {
    try {
      const block = await this._client.getBlock({ blockNumber: height });
      this._remember(block.hash, Number(block.timestamp));
      return block.hash;
    } catch (error) {
      if (error instanceof BlockNotFoundError) return null;
      throw error;
    }
  }

  /**
   * The logs of [from, to]. A range whose answer is too large for the transport or the node (viem's response size
   * limit, a provider's "more than 10000 results" or range limit) is split in two, down to single blocks.
   */
  async logs(from: bigint, to: bigint): Promise<ChainLog[]> {
    try {
      return await this._logs(from, to);
    } catch (error) {
      if (from >= to || !tooLarge(error)) throw error;
      const mid = from + (to - from) / 2n;
      return [...(await this.logs(from, mid)), ...(await this.logs(mid + 1n, to))];
    }
  }

  private async _logs(from: bigint, to: bigint): Promise<ChainLog[]> {
    const logs = await this._client.getLogs({ address: this._addresses, fromBlock: from, toBlock: to });
    return logs
      .filter((l) => !l.removed)
      .map((l) => ({
        blockNumber: l.blockNumber,
        blockHash: l.blockHash,
        transactionHash: l.transactionHash,
        logIndex: l.logIndex,
        address: l.address,
        topics: l.topics,
        data: l.data,
      }));
  }

  async timestampOf(hash: Hex): Promise<number> {
    const known = this._times.get(hash);
    if (known !== undefined) return known;
    const block = await this._client.getBlock({ blockHash: hash });
    this._remember(hash, Number(block.timestamp));
    return Number(block.timestamp);
  }

  private _remember(hash: Hex, timestamp: number): void {
    if (this._times.size >= 4096) this._times.delete(this._times.keys().next().value!);
    this._times.set(hash, timestamp);
  }
}

/** Errors that mean "ask for a smaller range", as viem and the usual RPC providers word them. */
const TOO_LARGE = new RegExp(
  [
    "response (body|size)",
    "too large",
    "exceed",
    "more than \\d+ (results|logs)",
    "too many",
    "range.*(limit|large|exceed)",
    "limit.*range",
    "query timeout",
  ].join("|"),
  "i",
);

function tooLarge(error: unknown): boolean {
  const found = error instanceof BaseError ? error.walk((e) => e instanceof ResponseBodyTooLargeError) : null;
  return found instanceof ResponseBodyTooLargeError || (error instanceof Error && TOO_LARGE.test(error.message));
}

export class GovernanceIndexer {
  private readonly _source: GovernanceLogSource;
  private readonly _log: Logger;

  private constructor(
    private readonly _o: IndexerOptions,
    private readonly _decoder: EventDecoder,
    private readonly _packets: PacketRecovery | null,
  ) {
    this._source = new GovernanceLogSource(_o.client, _decoder.addresses);
    this._log = _o.logger ?? silentLogger();
  }

  /**
   * Checks the chain answers, binds the index to this chain and these contracts (refusing an index built for others).
   */
  static async create(o: IndexerOptions): Promise<GovernanceIndexer> {
    let chainId: number;
    try {
      chainId = await o.client.getChainId();
    } catch (error) {
      throw new AuditorError(
        AuditorErrorCode.ChainUnreachable,
        `the governance chain does not answer: ${(error as Error).message}`,
        {},
        { cause: error },
      );
    }
    const contracts = Object.fromEntries(Object.entries(o.contracts).map(([k, a]) => [k, getAddress(a)])) as Record<
      string,
      Address
    >;
    o.store.bindIdentity({ chainId, contracts });
    const abis = governanceAbis(o.artifactsDir);
    const ledger = contracts.ledger;
    const packets = ledger === undefined ? null : new PacketRecovery(abis.ledger, packetDomain(chainId, ledger));
    return new GovernanceIndexer(o, new EventDecoder(contracts, abis), packets);
  }

  /** Indexes up to the confirmed head as it is now, then returns. RPC faults are retried a few times. */
  async sync(maxErrors = 5): Promise<IndexProgress> {
    const controller = new AbortController();
    let errors = 0;
    let lastError: unknown;
    const follower = this._follower({
      onPoll: (info: PollInfo) => {
        if (info.next > info.safeHead) controller.abort();
      },
      onError: (error: unknown) => {
        lastError = error;
        if (++errors >= maxErrors) controller.abort();
      },
    });
    await follower.run((e) => this._handle(e), controller.signal);
    if (errors >= maxErrors)
      throw new AuditorError(
        AuditorErrorCode.ChainUnreachable,
        `indexing stopped after ${errors} RPC errors: ${(lastError as Error)?.message}`,
        {},
        { cause: lastError },
      );
    return this.progress();
  }

  /**
   * Follows the chain until `signal` aborts; a failed block (RPC fault while decoding) is retried from the checkpoint.
   */
  async follow(signal: AbortSignal): Promise<void> {
    let backoff = this._o.pollIntervalMs ?? 1_000;
    while (!signal.aborted) {
      try {
        await this._follower({
          onError: (error: unknown) => this._log.warn({ err: error }, "governance chain RPC error, retrying"),
        }).run((e) => this._handle(e), signal);
      } catch (error) {
        this._log.error({ err: error }, "indexing failed; resuming from the checkpoint");
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  progress(): IndexProgress {
    return { checkpoint: this._o.store.checkpoint()?.height ?? null, events: this._o.store.eventCount() };
  }

  private _follower(hooks: {
    onPoll?: (info: PollInfo) => void;
    onError?: (error: unknown) => void;
  }): ConfirmedLogFollower {
    // A fresh follower each time, resumed from the blocks the store remembers (a reorg while down is noticed).
    return new ConfirmedLogFollower(this._source, {
      fromBlock: BigInt(this._o.fromBlock ?? 0),
      confirmations: this._o.confirmations ?? 2,
      known: this._o.store.recentBlocks(),
      pollIntervalMs: this._o.pollIntervalMs ?? 1_000,
      maxBlockRange: this._o.maxBlockRange ?? 1_000,
      reorgWindow: this._o.reorgWindow ?? 256,
      maxBackoffMs: 30_000,
      ...hooks,
    });
  }

  private async _handle(event: SubscriptionEvent): Promise<void> {
    if (event.type === "reorg") {
      const { checkpoint, removed } = this._o.store.rewind(Number(event.forkHeight));
      this._log.warn(
        { forkHeight: event.forkHeight.toString(), removed, checkpoint: checkpoint.height },
        "reorg: rewound the index",
      );
      return;
    }
    const timestamp = await this._source.timestampOf(event.hash);
    const events = event.logs.flatMap((l) => this._decoder.decodeAll(l, timestamp));
    const block: IndexedBlock = {
      height: Number(event.height),
      hash: event.hash,
      timestamp,
      events,
      ...(await this._recover(events)),
    };
    this._o.store.commit([block]);
    this._o.onBlock?.({ height: block.height, events: events.length });
  }

  /** The packets behind the block's TxOpened and RefusalRecorded events, read from their transactions' input. */
  private async _recover(events: EventRow[]): Promise<{ packets: PacketRow[]; packetNotes: PacketNote[] }> {
    const packets: PacketRow[] = [];
    const packetNotes: PacketNote[] = [];
    if (this._packets === null) return { packets, packetNotes };
    for (const e of events) {
      if (e.contract !== "ledger" || (e.event !== "TxOpened" && e.event !== "RefusalRecorded")) continue;
      const { input } = await this._o.client.getTransaction({ hash: e.txHash });
      const found =
        e.event === "TxOpened"
          ? await this._packets.opened(e, input)
          : await this._packets.refused(e, input, this._proxiesOf(e, events));
      if ("note" in found) packetNotes.push({ block: e.block, logIndex: e.logIndex, note: found.note });
      else packets.push(...found.packets);
    }
    return { packets, packetNotes };
  }

  /** The source signers the pipe had: synced in this block before the event, then those already indexed. */
  private _proxiesOf(e: EventRow, block: EventRow[]): Address[] {
    const here = block
      .filter((x) => x.event === "PipeSynced" && x.pipeId === e.pipeId && x.logIndex < e.logIndex)
      .map((x) => String(x.args.sourceSigner) as Address)
      .reverse();
    return [...new Set([...here, ...this._o.store.pipeSourceSigners(e.pipeId!)])];
  }
}
