import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Hex } from "viem";
import { ChainCheckpoints } from "../../../lib/chain/checkpoints";
import type { BlockRef } from "../../../lib/chain/types";
import { CcgpError } from "../../../lib/infra/errors";
import { MIGRATE_FROM_1_SQL, SCHEMA_SQL, SCHEMA_VERSION } from "./schema";
import type {
  InboxEntry,
  InboxStatus,
  OutboxInput,
  OutboxItem,
  OutboxKind,
  OutboxStatus,
  RecordBlockResult,
  Refusal,
  RefusalInput,
  RewindResult,
} from "./types";

export interface StoreOptions {
  path: string;
  /** Milliseconds since the epoch; injected by tests. */
  clock?: () => number;
  /** How long a claimed (`sent`) item is leased to its worker before it is due again (default 60 s). */
  leaseMs?: number;
  /**
   * Failed attempts after which `markFailed` makes an item finally `failed` (default 10), unless it is bounded by time.
   */
  maxAttempts?: number;
  /** Delivered blocks remembered per chain for reorg checks (default 256). */
  recentBlocks?: number;
}

interface OutboxRow {
  id: string;
  kind: OutboxKind;
  payload: string;
  status: OutboxStatus;
  attempts: bigint;
  next_attempt_at: bigint;
  created_at: bigint;
  last_error: string | null;
  source_chain: string | null;
  source_height: bigint | null;
  source_block_hash: string | null;
}

const toJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));

function toItem(row: OutboxRow): OutboxItem {
  return {
    id: row.id,
    kind: row.kind,
    payload: JSON.parse(row.payload),
    status: row.status,
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    createdAt: Number(row.created_at),
    lastError: row.last_error,
    source:
      row.source_chain === null
        ? null
        : { chain: row.source_chain, height: row.source_height!, blockHash: row.source_block_hash as Hex },
  };
}

/**
 * The relayer's durable state in one SQLite file. Every method that changes more than one row runs in one transaction.
 *
 * Durability: WAL with `synchronous=NORMAL` for bookkeeping commits (no fsync per commit; a killed process loses
 * nothing, an OS crash or power loss may lose the last commits, never tear one, and lost commits are always a suffix).
 * A commit that stands behind something the relayer tells an outside party (the intake's 202, the receiver's 200, a
 * chain's request checkpoint) goes through `durably`: it is fsynced before it returns, and with it every earlier one.
 * Whatever else is lost is re-derived: each handler reads the chain before acting.
 */
export class RelayerStore {
  readonly db: Database.Database;
  private readonly _clock: () => number;
  private readonly _leaseMs: number;
  private readonly _maxAttempts: number;
  private readonly _checkpoints: ChainCheckpoints;
  /** Prepared statements by SQL text: preparing costs more than running most of these statements. */
  private readonly _statements = new Map<string, Database.Statement>();

  private constructor(db: Database.Database, options: StoreOptions) {
    this.db = db;
    this._clock = options.clock ?? Date.now;
    this._leaseMs = options.leaseMs ?? 60_000;
    this._maxAttempts = options.maxAttempts ?? 10;
    this._checkpoints = new ChainCheckpoints(db, {
      recentBlocks: options.recentBlocks ?? 256,
      clock: this._clock,
      refusals: {
        regression: (chain, height, checkpoint) =>
          new CcgpError(
            "STORE_CHECKPOINT_REGRESSION",
            `chain ${chain}: block ${height} is not above the checkpoint ${checkpoint} (rewind first on a reorg)`,
            { chain, height: height.toString(), checkpoint: checkpoint.toString() },
          ),
        tooDeep: (chain, forkHeight) =>
          new CcgpError(
            "STORE_REWIND_TOO_DEEP",
            `chain ${chain}: no remembered block below the fork at ${forkHeight}; ` +
              "resynchronise from a known-good block",
            { chain, forkHeight: forkHeight.toString() },
          ),
      },
    });
  }

  static open(options: StoreOptions): RelayerStore {
    mkdirSync(dirname(options.path), { recursive: true });
    const db = new Database(options.path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 5000");
    db.defaultSafeIntegers(true);
    const version = Number(db.pragma("user_version", { simple: true }));
    if (version > SCHEMA_VERSION)
      throw new CcgpError(
        "STORE_NEWER_SCHEMA",
        `store ${options.path} has schema ${version}, this relayer knows ${SCHEMA_VERSION}`,
        {
          path: options.path,
        },
      );
    db.transaction(() => {
      db.exec(SCHEMA_SQL);
      if (version === 1) db.exec(MIGRATE_FROM_1_SQL);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
    return new RelayerStore(db, options);
  }

  close(): void {
    this._statements.clear();
    this.db.close();
  }

  /** A prepared statement, cached by its SQL text. */
  prepare(sql: string): Database.Statement {
    let statement = this._statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this._statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `fn` in one transaction (e.g. complete an inbound packet and enqueue its ledger write together). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /**
   * Runs `fn` in one transaction that is on disk when this returns (`synchronous=FULL` for its commit: the WAL is
   * fsynced, and with it every commit before). For what the relayer acknowledges to an outside party.
   */
  durably<T>(fn: () => T): T {
    // SQLite refuses to change the safety level inside a transaction; a nested call would not be fsynced by itself.
    if (this.db.inTransaction)
      throw new CcgpError("STORE_DURABLE_NESTED", "a durable transaction cannot run inside another transaction", {});
    this.db.pragma("synchronous = FULL");
    try {
      return this.db.transaction(fn)();
    } finally {
      this.db.pragma("synchronous = NORMAL");
    }
  }

  // ---- checkpoints --------------------------------------------------------------------------------

  checkpoint(chain: string): BlockRef | null {
    const block = this._checkpoints.get(chain);
    return block === null ? null : { height: block.height, hash: block.hash };
  }

  /** Remembered delivered blocks of a chain, ascending: pass them as `known` to resume a subscription. */
  recentBlocks(chain: string): BlockRef[] {
    return this._checkpoints.recent(chain).map((b) => ({ height: b.height, hash: b.hash }));
  }

  /**
   * Records one delivered block: inserts its outbox items and moves the chain's checkpoint to it, in one
   * transaction, so the checkpoint never passes a block whose items are not durably stored.
   */
  recordBlock(chain: string, height: bigint, hash: Hex, items: readonly OutboxInput[]): RecordBlockResult {
    // Durable: past the checkpoint, the chain's events are not read again.
    return this.durably(() => {
      // First, so that a refused block inserts nothing.
      this._checkpoints.advance(chain, [{ height, hash }]);
      const now = this._clock();
      let inserted = 0;
      for (const item of items) inserted += this._insertOutbox(item, now, { chain, height, blockHash: hash });
      return { inserted, duplicates: items.length - inserted };
    });
  }

  /**
   * Undoes blocks at or above `forkHeight` after a reorg: the checkpoint returns to the highest remembered
   * block below the fork, pending items from removed blocks become `orphaned`, and items already claimed
   * or finished are returned for reconciliation.
   */
  rewind(chain: string, forkHeight: bigint): RewindResult {
    return this.transaction(() => {
      const below = this._checkpoints.rewind(chain, forkHeight);
      const now = this._clock();
      const orphaned = this.prepare(
        `UPDATE outbox SET status = 'orphaned', updated_at = ?
           WHERE source_chain = ? AND source_height >= ? AND status = 'pending'`,
      ).run(now, chain, forkHeight).changes;
      const inFlight = (
        this.prepare(
          `SELECT * FROM outbox WHERE source_chain = ? AND source_height >= ? AND status IN ('sent', 'done', 'failed')
             ORDER BY seq`,
        ).all(chain, forkHeight) as OutboxRow[]
      ).map(toItem);
      return { checkpoint: { height: below.height, hash: below.hash }, orphaned, inFlight };
    });
  }

  // ---- outbox -------------------------------------------------------------------------------------

  /** Adds an item that does not come from a block (e.g. a ledger write after an inbound packet). */
  enqueue(item: OutboxInput): boolean {
    return this._insertOutbox(item, this._clock(), null) === 1;
  }

  /**
   * Adds an item already claimed by the caller (as `claimDue` would: `sent`, leased), for a worker that
   * runs it at once. `null` when an item with this id exists (it is left as it is, for the usual claim).
   */
  enqueueClaimed(item: OutboxInput, now: number = this._clock()): OutboxItem | null {
    const payload = toJson(item.payload);
    const changes = this.prepare(
      `INSERT INTO outbox (id, kind, payload, status, attempts, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, 'sent', 0, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ).run(item.id, item.kind, payload, now + this._leaseMs, now, now).changes;
    if (changes === 0) return null;
    return {
      id: item.id,
      kind: item.kind,
      payload: JSON.parse(payload), // as stored (bigints as strings), as `getOutbox` would give it
      status: "sent",
      attempts: 0,
      nextAttemptAt: now + this._leaseMs,
      createdAt: now,
      lastError: null,
      source: null,
    };
  }

  /** Inserts, or revives an orphaned item with the same id (the same event re-included after a reorg). */
  private _insertOutbox(
    item: OutboxInput,
    now: number,
    source: { chain: string; height: bigint; blockHash: Hex } | null,
  ): number {
    return this.prepare(
      `INSERT INTO outbox (id, kind, payload, status, next_attempt_at, created_at, updated_at,
                             source_chain, source_height, source_block_hash)
         VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET payload = excluded.payload, status = 'pending',
           next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at,
           source_chain = excluded.source_chain, source_height = excluded.source_height,
           source_block_hash = excluded.source_block_hash
         WHERE outbox.status = 'orphaned'`,
    ).run(
      item.id,
      item.kind,
      toJson(item.payload),
      now,
      now,
      now,
      source?.chain ?? null,
      source?.height ?? null,
      source?.blockHash ?? null,
    ).changes;
  }

  getOutbox(id: string): OutboxItem | null {
    const row = this.prepare("SELECT * FROM outbox WHERE id = ?").get(id) as OutboxRow | undefined;
    return row === undefined ? null : toItem(row);
  }

  /**
   * Claims up to `limit` due items, oldest first: pending ones whose time has come and `sent` ones whose
   * lease ran out (their worker died). Each claim leases the item. A claim is not an attempt: `attempts` counts
   * finished failed attempts (`markFailed`), so a claim lost in a crash spends nothing.
   */
  claimDue(now: number = this._clock(), limit = 100): OutboxItem[] {
    return this.transaction(() => {
      const rows = this.prepare(
        `SELECT * FROM outbox WHERE status IN ('pending', 'sent') AND next_attempt_at <= ?
           ORDER BY next_attempt_at, seq LIMIT ?`,
      ).all(now, limit) as OutboxRow[];
      const claim = this.prepare("UPDATE outbox SET status = 'sent', next_attempt_at = ?, updated_at = ? WHERE id = ?");
      for (const row of rows) claim.run(now + this._leaseMs, now, row.id);
      return rows.map((row) => ({
        ...toItem(row),
        status: "sent" as const,
        nextAttemptAt: now + this._leaseMs,
      }));
    });
  }

  private _requireSent(id: string): OutboxItem {
    const item = this.getOutbox(id);
    if (item === null) throw new CcgpError("STORE_UNKNOWN_ITEM", `outbox item ${id} does not exist`, { id });
    if (item.status !== "sent")
      throw new CcgpError("STORE_BAD_TRANSITION", `outbox item ${id} is ${item.status}, not sent (claimed)`, {
        id,
        status: item.status,
      });
    return item;
  }

  /**
   * A done item due again, when it was done before `doneBefore` (ms): the write it made is gone (a reorg past the
   * confirmation depth undid it) and the ledger still calls for it. A fresh start: no attempts spent. True if re-armed.
   */
  rearm(id: string, doneBefore: number, now: number = this._clock()): boolean {
    return (
      this.prepare(
        `UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ?
           WHERE id = ? AND status = 'done' AND updated_at < ?`,
      ).run(now, now, id, doneBefore).changes === 1
    );
  }

  markDone(id: string): void {
    this.transaction(() => {
      this._requireSent(id);
      this.prepare("UPDATE outbox SET status = 'done', updated_at = ? WHERE id = ?").run(this._clock(), id);
    });
  }

  /**
   * Records a failed attempt (`attempts` + 1). With `retryAt` the item is pending again from then, unless it used up
   * its attempts; with `retryAt: null` (a permanent fault) it is finally `failed`. `bound: "time"`: the caller bounds
   * the retries by a time of its own (a packet's deadline), and the attempt count does not end them. Returns the new
   * status.
   */
  markFailed(
    id: string,
    failure: { error: string; retryAt: number | null; bound?: "attempts" | "time" },
  ): "pending" | "failed" {
    return this.transaction(() => {
      const item = this._requireSent(id);
      const attempts = item.attempts + 1;
      const exhausted = failure.bound !== "time" && attempts >= this._maxAttempts;
      const status = failure.retryAt === null || exhausted ? "failed" : "pending";
      this.prepare(
        "UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?",
      ).run(status, attempts, failure.retryAt ?? item.nextAttemptAt, failure.error, this._clock(), id);
      return status;
    });
  }

  /**
   * Items a dead process had claimed become pending again, spread over `spreadMs` from `now` (`random` in [0, 1)),
   * so a restart does not fire them all at once. Their attempts are untouched: a crash is not a failure.
   */
  releaseClaims(now: number, spreadMs: number, random: () => number = Math.random): number {
    return this.transaction(() => {
      const ids = this.prepare("SELECT id FROM outbox WHERE status = 'sent' ORDER BY seq").all() as Array<{
        id: string;
      }>;
      const release = this.prepare(
        "UPDATE outbox SET status = 'pending', next_attempt_at = ?, updated_at = ? WHERE id = ?",
      );
      for (const { id } of ids) release.run(now + Math.floor(random() * spreadMs), now, id);
      return ids.length;
    });
  }

  /** Items not finished yet (pending or claimed). */
  pendingCount(): number {
    const row = this.prepare("SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'sent')").get() as {
      n: bigint;
    };
    return Number(row.n);
  }

  // ---- inbox --------------------------------------------------------------------------------------

  /** Records an inbound packet under its unique key; `false` if that key was accepted before (a duplicate). */
  acceptInbound(key: string, packet: unknown): boolean {
    const now = this._clock();
    return (
      this.prepare(
        `INSERT INTO inbox (key, packet, status, received_at, updated_at) VALUES (?, ?, 'accepted', ?, ?)
         ON CONFLICT (key) DO NOTHING`,
      ).run(key, toJson(packet), now, now).changes === 1
    );
  }

  completeInbound(key: string, status: Exclude<InboxStatus, "accepted">, result: unknown): void {
    const changed = this.prepare(
      "UPDATE inbox SET status = ?, result = ?, updated_at = ? WHERE key = ? AND status = 'accepted'",
    ).run(status, toJson(result), this._clock(), key).changes;
    if (changed === 0) {
      const entry = this.getInbound(key);
      throw new CcgpError(
        entry === null ? "STORE_UNKNOWN_ITEM" : "STORE_BAD_TRANSITION",
        entry === null ? `inbox entry ${key} does not exist` : `inbox entry ${key} is already ${entry.status}`,
        { key },
      );
    }
  }

  getInbound(key: string): InboxEntry | null {
    const row = this.prepare("SELECT * FROM inbox WHERE key = ?").get(key) as
      { key: string; packet: string; status: InboxStatus; result: string | null; received_at: bigint } | undefined;
    if (row === undefined) return null;
    return {
      key: row.key,
      packet: JSON.parse(row.packet),
      status: row.status,
      result: row.result === null ? null : JSON.parse(row.result),
      receivedAt: Number(row.received_at),
    };
  }

  // ---- refusals -----------------------------------------------------------------------------------

  recordRefusal(refusal: RefusalInput): number {
    const info = this.prepare("INSERT INTO refusals (at, reason, pipe_id, signer, details) VALUES (?, ?, ?, ?, ?)").run(
      refusal.at ?? this._clock(),
      refusal.reason,
      refusal.pipeId ?? null,
      refusal.signer ?? null,
      toJson(refusal.details ?? {}),
    );
    return Number(info.lastInsertRowid);
  }

  refusals(filter: { since?: number; reason?: string; limit?: number } = {}): Refusal[] {
    const rows = this.prepare(
      `SELECT * FROM refusals WHERE at >= ? AND (? IS NULL OR reason = ?) ORDER BY id LIMIT ?`,
    ).all(filter.since ?? 0, filter.reason ?? null, filter.reason ?? null, filter.limit ?? 1000) as Array<{
      id: bigint;
      at: bigint;
      reason: string;
      pipe_id: string | null;
      signer: string | null;
      details: string;
    }>;
    return rows.map((r) => ({
      id: Number(r.id),
      at: Number(r.at),
      reason: r.reason,
      pipeId: r.pipe_id,
      signer: r.signer,
      details: JSON.parse(r.details) as Record<string, unknown>,
    }));
  }
}
