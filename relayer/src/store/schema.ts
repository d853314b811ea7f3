/** SQLite schema of the relayer store. `user_version` records which migration ran last. */
import { CHECKPOINT_SCHEMA_SQL } from "../../../lib/chain/checkpoints";

export const SCHEMA_VERSION = 2;

/**
 * From schema 1: the checkpoints and remembered blocks move to the tables shared with the auditor (`chain_*`, same
 * rows, block times unknown). Runs in one transaction with the schema, before anything reads them.
 */
export const MIGRATE_FROM_1_SQL = `
INSERT INTO chain_checkpoints (chain, height, hash, timestamp, updated_at)
  SELECT chain, height, block_hash, NULL, updated_at FROM checkpoints;
INSERT INTO chain_blocks (chain, height, hash, timestamp) SELECT chain, height, block_hash, NULL FROM recent_blocks;
DROP TABLE checkpoints;
DROP TABLE recent_blocks;
`;

export const SCHEMA_SQL = `
${CHECKPOINT_SCHEMA_SQL}
CREATE TABLE IF NOT EXISTS outbox (
  seq               INTEGER PRIMARY KEY AUTOINCREMENT,
  id                TEXT NOT NULL UNIQUE,
  kind              TEXT NOT NULL CHECK (kind IN ('packet', 'ledger-write')),
  payload           TEXT NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'done', 'failed', 'orphaned')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  next_attempt_at   INTEGER NOT NULL,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  last_error        TEXT,
  source_chain      TEXT,
  source_height     INTEGER,
  source_block_hash TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_source ON outbox (source_chain, source_height);

CREATE TABLE IF NOT EXISTS inbox (
  key          TEXT PRIMARY KEY,
  packet       TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('accepted', 'done', 'failed', 'refused')),
  result       TEXT,
  received_at  INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS refusals (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  at       INTEGER NOT NULL,
  reason   TEXT NOT NULL,
  pipe_id  TEXT,
  signer   TEXT,
  details  TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS refusals_at ON refusals (at);
`;
