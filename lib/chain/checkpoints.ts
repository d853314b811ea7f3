/**
 * Where a follower of a chain stands, in the SQLite file of whoever follows it (the relayer store, the auditor's
 * index): the checkpoint (the last block whose work is stored) and the blocks remembered by hash, which a resumed
 * follower checks to notice a reorg. One implementation for both: the checkpoint only moves up, a block at or below
 * it is refused (a duplicate delivery), and a rewind after a reorg returns to the highest remembered block below the
 * fork. Every call runs inside the caller's SQLite transaction, so the checkpoint moves with the caller's rows.
 */
import type Database from "better-sqlite3";
import type { Hex } from "viem";
import type { BlockRef } from "./types";

/** The two tables, created by each store's schema (and its migration from the tables it had before). */
export const CHECKPOINT_SCHEMA_SQL = `
-- The last block of each followed chain whose work is stored: moved in the same SQLite transaction as that work.
CREATE TABLE IF NOT EXISTS chain_checkpoints (
  chain       TEXT PRIMARY KEY,
  height      INTEGER NOT NULL,
  hash        TEXT NOT NULL,
  timestamp   INTEGER,
  updated_at  INTEGER NOT NULL
) STRICT;

-- Blocks followed recently, by hash: what a resumed follower checks to notice a reorg.
CREATE TABLE IF NOT EXISTS chain_blocks (
  chain      TEXT NOT NULL,
  height     INTEGER NOT NULL,
  hash       TEXT NOT NULL,
  timestamp  INTEGER,
  PRIMARY KEY (chain, height)
) STRICT;
`;

/** A followed block; `timestamp` (Unix seconds) where the follower keeps block times. */
export interface CheckpointBlock extends BlockRef {
  timestamp?: number;
}

/** How a store names the two refusals, in its own error type. */
export interface CheckpointRefusals {
  /** A block at or below the checkpoint: a duplicate delivery, or a reorg not rewound first. */
  regression(chain: string, height: bigint, checkpoint: bigint): Error;
  /** A rewind below every remembered block: the store must be rebuilt from a known-good block. */
  tooDeep(chain: string, forkHeight: bigint): Error;
}

export interface CheckpointOptions {
  /** Blocks remembered per chain for reorg checks. */
  recentBlocks: number;
  refusals: CheckpointRefusals;
  /** Milliseconds since the epoch. */
  clock: () => number;
}

interface Row {
  height: number | bigint;
  hash: string;
  timestamp: number | bigint | null;
}

const toBlock = (r: Row): CheckpointBlock => ({
  height: BigInt(r.height),
  hash: r.hash as Hex,
  ...(r.timestamp === null ? {} : { timestamp: Number(r.timestamp) }),
});

export class ChainCheckpoints {
  private readonly _get: Database.Statement;
  private readonly _recent: Database.Statement;
  private readonly _below: Database.Statement;
  private readonly _set: Database.Statement;
  private readonly _remember: Database.Statement;
  private readonly _prune: Database.Statement;
  private readonly _forget: Database.Statement;

  /** The tables must exist (`CHECKPOINT_SCHEMA_SQL`). */
  constructor(
    db: Database.Database,
    private readonly _options: CheckpointOptions,
  ) {
    this._get = db.prepare("SELECT height, hash, timestamp FROM chain_checkpoints WHERE chain = ?");
    this._recent = db.prepare("SELECT height, hash, timestamp FROM chain_blocks WHERE chain = ? ORDER BY height");
    this._below = db.prepare(
      "SELECT height, hash, timestamp FROM chain_blocks WHERE chain = ? AND height < ? ORDER BY height DESC LIMIT 1",
    );
    this._set = db.prepare(
      `INSERT INTO chain_checkpoints (chain, height, hash, timestamp, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (chain) DO UPDATE SET height = excluded.height, hash = excluded.hash,
         timestamp = excluded.timestamp, updated_at = excluded.updated_at`,
    );
    this._remember = db.prepare(
      "INSERT OR REPLACE INTO chain_blocks (chain, height, hash, timestamp) VALUES (?, ?, ?, ?)",
    );
    this._prune = db.prepare(
      `DELETE FROM chain_blocks WHERE chain = ? AND height <=
         (SELECT height FROM chain_blocks WHERE chain = ? ORDER BY height DESC LIMIT 1 OFFSET ?)`,
    );
    this._forget = db.prepare("DELETE FROM chain_blocks WHERE chain = ? AND height >= ?");
  }

  /** The chain's checkpoint; `null` before its first block. */
  get(chain: string): CheckpointBlock | null {
    const row = this._get.get(chain) as Row | undefined;
    return row === undefined ? null : toBlock(row);
  }

  /** The remembered blocks, ascending: a resumed follower's `known` blocks. */
  recent(chain: string): CheckpointBlock[] {
    return (this._recent.all(chain) as Row[]).map(toBlock);
  }

  /**
   * Moves the checkpoint to the last of `blocks` (ascending, each above the checkpoint, else nothing moves and the
   * regression is thrown) and remembers them. Call it in the transaction that stores the blocks' work.
   */
  advance(chain: string, blocks: readonly CheckpointBlock[]): void {
    if (blocks.length === 0) return;
    let last = this.get(chain)?.height ?? -1n;
    for (const block of blocks) {
      if (block.height <= last) throw this._options.refusals.regression(chain, block.height, last);
      last = block.height;
    }
    const tip = blocks[blocks.length - 1]!;
    this._set.run(chain, tip.height, tip.hash, tip.timestamp ?? null, this._options.clock());
    const keep = this._options.recentBlocks;
    for (const b of blocks.slice(-keep)) this._remember.run(chain, b.height, b.hash, b.timestamp ?? null);
    this._prune.run(chain, chain, keep);
  }

  /**
   * After a reorg at `forkHeight`: forgets the remembered blocks at or above it and returns the checkpoint to the
   * highest remembered block below it. Call it in the transaction that undoes the removed blocks' work.
   */
  rewind(chain: string, forkHeight: bigint): CheckpointBlock {
    const row = this._below.get(chain, forkHeight) as Row | undefined;
    if (row === undefined) throw this._options.refusals.tooDeep(chain, forkHeight);
    const below = toBlock(row);
    this._forget.run(chain, forkHeight);
    this._set.run(chain, below.height, below.hash, below.timestamp ?? null, this._options.clock());
    return below;
  }
}
