/**
 * The auditor's index: one SQLite file (WAL, synchronous=FULL). Every block is committed in one SQLite transaction
 * holding its events, its packets, the projections they change and the checkpoint, so a crash at any point leaves
 * the index at a block boundary: a restart resumes after the checkpoint with no gap and no duplicate.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { zeroAddress, type Address, type Hex } from "viem";
import { ChainCheckpoints } from "../../lib/chain/checkpoints";
import type { BlockRef } from "../../lib/chain/types";
import { AuditorError, AuditorErrorCode } from "./errors";
import { Projections } from "./projection";
import {
  INDEX_CHAIN,
  INDEX_SCHEMA_SQL,
  INDEX_SCHEMA_VERSION,
  MIGRATE_EVENTS_FROM_2_SQL,
  MIGRATE_INDEX_FROM_1_SQL,
} from "./schema";
import type { Checkpoint, EventRow, IndexIdentity, IndexedBlock, PacketRow } from "./types";

export interface IndexStoreOptions {
  path: string;
  /** Open an existing index for queries only (another process may be indexing into it). */
  readonly?: boolean;
  /** Indexed blocks remembered by hash for reorg checks (default 256). */
  recentBlocks?: number;
  /** SQLite page cache, in KiB (default 64 MiB). */
  cacheKib?: number;
}

/** The rowid of an event: (block, log index) packed, so rows sort in chain order. */
export const LOG_SLOTS = 1_048_576;
export const eventId = (block: number, logIndex: number): number => block * LOG_SLOTS + logIndex;

/** An events row joined with its block's hash (`SELECT e.*, b.hash AS block_hash ...`). */
export interface EventDbRow {
  id: number;
  block: number;
  log_index: number;
  tx_hash: string;
  block_hash: string;
  timestamp: number;
  contract: string;
  event: string;
  args: string;
  tx_id: string | null;
  pipe_id: string | null;
  institution: number | null;
  account: string | null;
  state: number | null;
  position: number;
}

/** The SELECT every event read goes through. */
export const EVENT_SELECT = "SELECT e.*, b.hash AS block_hash FROM events e JOIN blocks b ON b.height = e.block";

export function toEventRow(r: EventDbRow, addressOf: (contract: string) => Address): EventRow {
  return {
    block: r.block,
    logIndex: r.log_index,
    txHash: r.tx_hash as Hex,
    blockHash: r.block_hash as Hex,
    timestamp: r.timestamp,
    contract: r.contract,
    address: addressOf(r.contract),
    event: r.event,
    args: JSON.parse(r.args) as EventRow["args"],
    txId: r.tx_id as Hex | null,
    pipeId: r.pipe_id as Hex | null,
    institution: r.institution,
    account: r.account as Address | null,
    state: r.state,
    ...(r.position === 0 ? {} : { position: r.position }),
  };
}

export class IndexStore {
  readonly db: Database.Database;
  private readonly _recent: number;
  private _projections?: Projections;
  private _checkpoints?: ChainCheckpoints;
  private readonly _cache = new Map<string, Database.Statement>();
  private _addresses?: Record<string, Address>;
  private _insert?: {
    event: Database.Statement;
    block: Database.Statement;
    packet: Database.Statement;
    note: Database.Statement;
  };

  private constructor(db: Database.Database, options: IndexStoreOptions) {
    this.db = db;
    this._recent = options.recentBlocks ?? 256;
  }

  static open(options: IndexStoreOptions): IndexStore {
    if (!options.readonly) mkdirSync(dirname(options.path), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(options.path, options.readonly ? { readonly: true, fileMustExist: true } : {});
    } catch (error) {
      throw new AuditorError(
        AuditorErrorCode.BadInput,
        `cannot open the index ${options.path}: ${(error as Error).message}`,
        { path: options.path },
        { cause: error },
      );
    }
    db.pragma("busy_timeout = 5000");
    db.pragma(`cache_size = -${options.cacheKib ?? 64 * 1024}`);
    const version = Number(db.pragma("user_version", { simple: true }));
    if (version > INDEX_SCHEMA_VERSION)
      throw new AuditorError(
        AuditorErrorCode.NewerSchema,
        `index ${options.path} has schema ${version}, this auditor knows ${INDEX_SCHEMA_VERSION}`,
        { path: options.path },
      );
    if (options.readonly) {
      if (version !== INDEX_SCHEMA_VERSION)
        throw new AuditorError(
          AuditorErrorCode.BadInput,
          version === 0
            ? `${options.path} is not an auditor index (run \`auditor index\` first)`
            : `index ${options.path} has schema ${version}: run \`auditor index\` once to upgrade it`,
          { path: options.path },
        );
    } else {
      db.pragma("journal_mode = WAL");
      // NORMAL: a process crash (SIGKILL) loses no commit; a power loss may lose the last ones, but each takes its
      // checkpoint with it, so the index is re-read from the chain from there: no gap, no duplicate either way.
      db.pragma("synchronous = NORMAL");
      db.transaction(() => {
        const events = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get();
        if (version < 3 && events !== undefined) db.exec(MIGRATE_EVENTS_FROM_2_SQL);
        db.exec(INDEX_SCHEMA_SQL);
        if (version === 1) db.exec(MIGRATE_INDEX_FROM_1_SQL);
        db.pragma(`user_version = ${INDEX_SCHEMA_VERSION}`);
      })();
    }
    return new IndexStore(db, options);
  }

  close(): void {
    this.db.close();
  }

  // ---- identity -----------------------------------------------------------------------------------

  identity(): IndexIdentity | null {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'identity'").get() as { value: string } | undefined;
    return row === undefined ? null : (JSON.parse(row.value) as IndexIdentity);
  }

  /** Records what the index is for on first use; refuses, naming the difference, an index built for others. */
  bindIdentity(identity: IndexIdentity): void {
    const current = this.identity();
    if (current === null) {
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('identity', ?)").run(JSON.stringify(identity));
      return;
    }
    const differences: string[] = [];
    if (current.chainId !== identity.chainId) differences.push(`chain id ${current.chainId}, not ${identity.chainId}`);
    for (const key of new Set([...Object.keys(current.contracts), ...Object.keys(identity.contracts)])) {
      const [was, now] = [current.contracts[key], identity.contracts[key]];
      if (was?.toLowerCase() !== now?.toLowerCase())
        differences.push(`${key} ${was ?? "(none)"}, not ${now ?? "(none)"}`);
    }
    if (differences.length > 0)
      throw new AuditorError(
        AuditorErrorCode.IndexMismatch,
        `the index was built for other contracts: ${differences.join("; ")}`,
        { differences },
      );
  }

  // ---- checkpoint ---------------------------------------------------------------------------------

  /** The checkpoint and remembered blocks, in the tables and code shared with the relayer store. */
  private get _chain(): ChainCheckpoints {
    return (this._checkpoints ??= new ChainCheckpoints(this.db, {
      recentBlocks: this._recent,
      clock: Date.now,
      refusals: {
        regression: (_chain, height, checkpoint) =>
          new AuditorError(
            AuditorErrorCode.Checkpoint,
            `block ${height} is not above the checkpoint ${checkpoint} (rewind first on a reorg)`,
            { height: Number(height), checkpoint: Number(checkpoint) },
          ),
        tooDeep: (_chain, forkHeight) =>
          new AuditorError(
            AuditorErrorCode.Checkpoint,
            `no remembered block below the fork at ${forkHeight}: rebuild the index from a known-good block`,
            { forkHeight: Number(forkHeight) },
          ),
      },
    }));
  }

  checkpoint(): Checkpoint | null {
    const block = this._chain.get(INDEX_CHAIN);
    return block === null ? null : { height: Number(block.height), hash: block.hash, timestamp: block.timestamp ?? 0 };
  }

  /** Indexed blocks remembered by hash, ascending: the follower's `known` blocks. */
  recentBlocks(): BlockRef[] {
    return this._chain.recent(INDEX_CHAIN).map((b) => ({ height: b.height, hash: b.hash }));
  }

  // ---- write path ---------------------------------------------------------------------------------

  /**
   * Commits blocks (ascending, each above the checkpoint) in one SQLite transaction: events, packets, the
   * projections they change, the remembered hashes and the checkpoint move together.
   */
  commit(blocks: readonly IndexedBlock[]): { events: number; packets: number } {
    if (blocks.length === 0) return { events: 0, packets: 0 };
    const ins = this._statements();
    const projections = (this._projections ??= new Projections(this.db));
    return this.db.transaction(() => {
      // First, so that a refused block stores nothing.
      this._chain.advance(
        INDEX_CHAIN,
        blocks.map((b) => ({ height: BigInt(b.height), hash: b.hash, timestamp: b.timestamp })),
      );
      let events = 0;
      let packets = 0;
      for (const block of blocks) {
        if (block.events.length > 0) ins.block.run(block.height, block.hash, block.timestamp);
        for (const e of block.events) {
          ins.event.run(
            eventId(e.block, e.logIndex),
            e.block,
            e.logIndex,
            e.txHash,
            e.timestamp,
            e.contract,
            e.event,
            JSON.stringify(e.args),
            e.txId,
            e.pipeId,
            e.institution,
            e.account,
            e.state,
            e.position ?? 0,
          );
          projections.apply(e);
        }
        for (const p of block.packets) ins.packet.run(...packetParams(p));
        for (const n of block.packetNotes ?? []) ins.note.run(n.block, n.logIndex, n.note);
        events += block.events.length;
        packets += block.packets.length;
      }
      return { events, packets };
    })();
  }

  /**
   * Undoes every block at or above `forkHeight` after a reorg: their events, packets and notes go, the rows they
   * touched in the projections are rebuilt from the events that remain, and the checkpoint returns to the highest
   * remembered block below the fork.
   */
  rewind(forkHeight: number): { checkpoint: Checkpoint; removed: number } {
    return this.db.transaction(() => {
      const below = this._chain.rewind(INDEX_CHAIN, BigInt(forkHeight));
      const gone = this.eventsWhere("e.id >= ?", [eventId(forkHeight, 0)]);
      this.db.prepare("DELETE FROM events WHERE id >= ?").run(eventId(forkHeight, 0));
      for (const table of ["packets", "packet_notes", "subchain_gateways"])
        this.db.prepare(`DELETE FROM ${table} WHERE block >= ?`).run(forkHeight);
      this.db.prepare("DELETE FROM blocks WHERE height >= ?").run(forkHeight);
      (this._projections ??= new Projections(this.db)).rebuild(Projections.touched(gone), (w, p) =>
        this.eventsWhere(w, p),
      );
      const checkpoint = { height: Number(below.height), hash: below.hash, timestamp: below.timestamp ?? 0 };
      return { checkpoint, removed: gone.length };
    })();
  }

  // ---- reads --------------------------------------------------------------------------------------

  /** A prepared statement, compiled once per SQL text (queries run the same few shapes over and over). */
  statement(sql: string): Database.Statement {
    let stmt = this._cache.get(sql);
    if (stmt === undefined) {
      if (this._cache.size >= 256) this._cache.clear();
      stmt = this.db.prepare(sql);
      this._cache.set(sql, stmt);
    }
    return stmt;
  }

  /** Events matching a SQL condition on `events` (alias `e`), in chain order. */
  eventsWhere(where: string, params: unknown[]): EventRow[] {
    return this.toEvents(
      this.statement(`${EVENT_SELECT} WHERE ${where} ORDER BY e.id, e.position`).all(...params) as EventDbRow[],
    );
  }

  toEvents(rows: EventDbRow[]): EventRow[] {
    const addresses = (this._addresses ??= this.identity()?.contracts ?? {});
    return rows.map((r) => toEventRow(r, (contract) => addresses[contract] ?? zeroAddress));
  }

  /**
   * The event ids (rowid bounds) of the blocks whose time is within [from, to]; null when no indexed block is.
   * Block time only grows with height, so a time range is a block range.
   */
  idRange(from?: number, to?: number): [number, number] | null {
    const lo =
      from === undefined
        ? 0
        : (
            this.statement("SELECT MIN(height) AS h FROM blocks WHERE block_time >= ?").get(from) as {
              h: number | null;
            }
          ).h;
    const hi =
      to === undefined
        ? Number.MAX_SAFE_INTEGER
        : (this.statement("SELECT MAX(height) AS h FROM blocks WHERE block_time <= ?").get(to) as { h: number | null })
            .h;
    if (lo === null || hi === null || lo > hi) return null;
    return [eventId(lo, 0), hi === Number.MAX_SAFE_INTEGER ? hi : eventId(hi, LOG_SLOTS - 1)];
  }

  /** Every source service signer (who countersigns packets) the ledger's copy of a pipe ever had, newest first. */
  pipeSourceSigners(pipeId: Hex): Address[] {
    const rows = this.db
      .prepare(
        `SELECT json_extract(args, '$.sourceSigner') AS signer, MAX(id) AS at FROM events
                WHERE pipe_id = ? AND contract = 'ledger' AND event = 'PipeSynced' GROUP BY signer ORDER BY at DESC`,
      )
      .all(pipeId.toLowerCase()) as Array<{ signer: Address }>;
    return rows.map((r) => r.signer);
  }

  eventCount(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM events").get() as { n: number }).n;
  }

  private _statements() {
    return (this._insert ??= {
      event: this.db.prepare(`INSERT INTO events (id, block, log_index, tx_hash, timestamp, contract, event, args,
                              tx_id, pipe_id, institution, account, state, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?,
                              ?, ?, ?, ?, ?, ?)`),
      block: this.db.prepare("INSERT INTO blocks (height, hash, block_time) VALUES (?, ?, ?)"),
      packet: this.db
        .prepare(`INSERT INTO packets (block, log_index, position, kind, tx_id, pipe_id, sequence, packet_hash, packet,
                               app_signature, proxy_signature, declared_signer, app_signer, proxy_claimed,
                               proxy_signer, problem)
                               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      note: this.db.prepare("INSERT INTO packet_notes (block, log_index, note) VALUES (?, ?, ?)"),
    });
  }
}

function packetParams(p: PacketRow): unknown[] {
  return [
    p.block,
    p.logIndex,
    p.position,
    p.kind,
    p.txId,
    p.pipeId,
    p.sequence,
    p.packetHash,
    JSON.stringify(p.packet),
    p.appSignature,
    p.proxySignature,
    p.declaredSigner,
    p.appSigner,
    p.proxyClaimed,
    p.proxySigner,
    p.problem,
  ];
}
