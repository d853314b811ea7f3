/** SQLite schema of the auditor's index. `user_version` records the schema version. */
import { CHECKPOINT_SCHEMA_SQL } from "../../lib/chain/checkpoints";

export const INDEX_SCHEMA_VERSION = 3;

/** The chain the index follows, as its checkpoint rows name it. */
export const INDEX_CHAIN = "governance";

/**
 * Every governance event. The key is (block, log_index) packed (block * 2^20 + log_index, checked) and the record's
 * place in its log: a batch log (one for many reports) is stored as one row per record, each with its own tx id and
 * institution, so the indexes below answer for each; a plain log is position 0. Rows sort in chain order, and every
 * index below is ordered by block within a key.
 */
const EVENTS_TABLE_SQL = (name: string): string => `
CREATE TABLE IF NOT EXISTS ${name} (
  id           INTEGER NOT NULL CHECK (id = block * 1048576 + log_index AND log_index < 1048576),
  block        INTEGER NOT NULL,
  log_index    INTEGER NOT NULL,
  tx_hash      TEXT NOT NULL,
  timestamp    INTEGER NOT NULL,
  contract     TEXT NOT NULL,
  event        TEXT NOT NULL,
  args         TEXT NOT NULL,
  tx_id        TEXT,
  pipe_id      TEXT,
  institution  INTEGER,
  account      TEXT,
  state        INTEGER,
  position     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (id, position)
) STRICT, WITHOUT ROWID;`;

/** From schema 1 or 2: the events table takes the record's position in its log (0 for every row so far). */
export const MIGRATE_EVENTS_FROM_2_SQL = `
${EVENTS_TABLE_SQL("events_v3")}
INSERT INTO events_v3 SELECT *, 0 FROM events;
DROP TABLE events;
ALTER TABLE events_v3 RENAME TO events;
`;

/** From schema 1: the checkpoint and the remembered blocks move to the tables shared with the relayer store. */
export const MIGRATE_INDEX_FROM_1_SQL = `
INSERT INTO chain_checkpoints (chain, height, hash, timestamp, updated_at)
  SELECT '${INDEX_CHAIN}', height, hash, timestamp, 0 FROM checkpoint;
INSERT INTO chain_blocks (chain, height, hash, timestamp) SELECT '${INDEX_CHAIN}', height, hash, timestamp FROM
recent_blocks;
DROP TABLE checkpoint;
DROP TABLE recent_blocks;
`;

export const INDEX_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
) STRICT;

${CHECKPOINT_SCHEMA_SQL}
${EVENTS_TABLE_SQL("events")}
CREATE INDEX IF NOT EXISTS events_tx ON events (tx_id) WHERE tx_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_pipe ON events (pipe_id) WHERE pipe_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_institution ON events (institution) WHERE institution IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_account ON events (account) WHERE account IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_state ON events (state) WHERE state IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_name ON events (event);

-- The blocks that hold events: their hash, and their time (to turn a time range into a block range).
CREATE TABLE IF NOT EXISTS blocks (
  height      INTEGER PRIMARY KEY,
  hash        TEXT NOT NULL,
  block_time  INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS blocks_time ON blocks (block_time);

-- Packets read back from the calldata of open / reportRefusal, with their recovered signers.
CREATE TABLE IF NOT EXISTS packets (
  block            INTEGER NOT NULL,
  log_index        INTEGER NOT NULL,
  position         INTEGER NOT NULL,
  kind             TEXT NOT NULL CHECK (kind IN ('open', 'refusal')),
  tx_id            TEXT NOT NULL,
  pipe_id          TEXT NOT NULL,
  sequence         TEXT NOT NULL,
  packet_hash      TEXT NOT NULL,
  packet           TEXT NOT NULL,
  app_signature    TEXT NOT NULL,
  proxy_signature  TEXT NOT NULL,
  declared_signer  TEXT NOT NULL,
  app_signer       TEXT,
  proxy_claimed    TEXT,
  proxy_signer     TEXT,
  problem          TEXT,
  PRIMARY KEY (block, log_index, position)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS packets_tx ON packets (tx_id);
CREATE INDEX IF NOT EXISTS packets_signer ON packets (declared_signer, kind);
-- Why the packets of an event could not be recovered (e.g. opened through a contract).
CREATE TABLE IF NOT EXISTS packet_notes (
  block      INTEGER NOT NULL,
  log_index  INTEGER NOT NULL,
  note       TEXT NOT NULL,
  PRIMARY KEY (block, log_index)
) STRICT, WITHOUT ROWID;

-- Projections, derived from the events in the same SQLite transaction (rebuilt from them after a reorg).
CREATE TABLE IF NOT EXISTS transactions (
  tx_id               TEXT PRIMARY KEY,
  number              INTEGER NOT NULL,
  pipe_id             TEXT NOT NULL,
  opener              TEXT NOT NULL,
  source_institution  INTEGER,
  target_institution  INTEGER,
  state               INTEGER NOT NULL,
  reason              INTEGER NOT NULL,
  deadline            INTEGER NOT NULL,
  step_count          INTEGER NOT NULL,
  steps               INTEGER NOT NULL,
  write_mask          INTEGER NOT NULL,
  done_mask           INTEGER NOT NULL DEFAULT 0,
  undone_mask         INTEGER NOT NULL DEFAULT 0,
  opened_at           INTEGER NOT NULL,
  opened_block        INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS transactions_number ON transactions (number);
CREATE INDEX IF NOT EXISTS transactions_state ON transactions (state, deadline);
CREATE INDEX IF NOT EXISTS transactions_pipe ON transactions (pipe_id, opened_at);
CREATE INDEX IF NOT EXISTS transactions_source ON transactions (source_institution, opened_at);
CREATE INDEX IF NOT EXISTS transactions_target ON transactions (target_institution, opened_at);
CREATE INDEX IF NOT EXISTS transactions_opened ON transactions (opened_at);

-- The ledger's copy of each pipe (PipeSynced).
CREATE TABLE IF NOT EXISTS pipes (
  pipe_id             TEXT PRIMARY KEY,
  source_signer       TEXT NOT NULL,
  target_signer       TEXT NOT NULL,
  source_institution  INTEGER NOT NULL,
  target_institution  INTEGER NOT NULL,
  source_subchain     TEXT NOT NULL,
  target_subchain     TEXT NOT NULL
) STRICT;

-- Sub-chains and every gateway each one ever had (ChainRegistry).
CREATE TABLE IF NOT EXISTS subchains (
  subchain_id  TEXT PRIMARY KEY,
  institution  INTEGER NOT NULL,
  chain_id     TEXT NOT NULL,
  gateway      TEXT NOT NULL,
  name         TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS subchain_gateways (
  subchain_id  TEXT NOT NULL,
  gateway      TEXT NOT NULL,
  block        INTEGER NOT NULL,
  log_index    INTEGER NOT NULL,
  PRIMARY KEY (subchain_id, block, log_index)
) STRICT, WITHOUT ROWID;
`;
