/**
 * The transaction journal: one durable row per transaction this relayer takes part in (as initiator or receiver),
 * in the relayer store's SQLite file, so it commits in the same SQLite transaction as the outbox items that move it
 * forward. The ledger is the authority on a transaction's state; the journal keeps what the ledger does not: the
 * signed packet, the plan, where to look for events, and this relayer's own progress.
 */
import type { Hex } from "viem";
import { parseSignedPacket, toWire, type SignedPacket } from "../../../lib/amdp";
import { CcgpError } from "../../../lib/infra/errors";
import type { RelayerStore } from "../store";
import type { Plan } from "../../../lib/domain/plan";

import type { Role } from "../work/items";

export type { Role };
/** How the transaction started: an app request, a gateway event, or a packet from a peer (receiver). */
export type Mode = "app" | "chain" | "peer";
/**
 * This relayer's progress: `accepted` (journaled, not opened yet), `opened`, `delivered` (initiator: the target has
 * it), `executed` (receiver: its step ran), `failed` (it could not take part: never opened, refused), `finished`
 * (the ledger reached a final state, or nothing is left for this relayer to do).
 */
export type LocalStatus = "accepted" | "opened" | "delivered" | "executed" | "failed" | "finished";

export interface JournalEntry {
  txId: Hex;
  role: Role;
  mode: Mode;
  pipeId: Hex;
  sequence: bigint;
  signed: SignedPacket;
  plan: Plan;
  status: LocalStatus;
  /** The last ledger state seen (`TxState`). */
  ledgerState: number;
  /** Governance and sub-chain heights before the transaction started: where to look for its events. */
  govFromBlock: bigint;
  subFromBlock: bigint;
  result: unknown;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS relayer_tx (
  tx_id          TEXT NOT NULL,
  role           TEXT NOT NULL CHECK (role IN ('initiator', 'receiver')),
  mode           TEXT NOT NULL CHECK (mode IN ('app', 'chain', 'peer')),
  pipe_id        TEXT NOT NULL,
  sequence       TEXT NOT NULL,
  packet         TEXT NOT NULL,
  plan           TEXT NOT NULL,
  status         TEXT NOT NULL,
  ledger_state   INTEGER NOT NULL DEFAULT 0,
  gov_from_block TEXT NOT NULL,
  sub_from_block TEXT NOT NULL,
  result         TEXT,
  error          TEXT,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  PRIMARY KEY (tx_id, role)
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS relayer_tx_sequence ON relayer_tx (role, pipe_id, sequence);
CREATE INDEX IF NOT EXISTS relayer_tx_status ON relayer_tx (status);
`;

interface Row {
  tx_id: string;
  role: Role;
  mode: Mode;
  pipe_id: string;
  sequence: string;
  packet: string;
  plan: string;
  status: LocalStatus;
  ledger_state: bigint;
  gov_from_block: string;
  sub_from_block: string;
  result: string | null;
  error: string | null;
  created_at: bigint;
  updated_at: bigint;
}

const json = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));

function toEntry(row: Row): JournalEntry {
  return {
    txId: row.tx_id as Hex,
    role: row.role,
    mode: row.mode,
    pipeId: row.pipe_id as Hex,
    sequence: BigInt(row.sequence),
    signed: parseSignedPacket(JSON.parse(row.packet), { maxPayloadBytes: Number.MAX_SAFE_INTEGER }),
    plan: JSON.parse(row.plan) as Plan,
    status: row.status,
    ledgerState: Number(row.ledger_state),
    govFromBlock: BigInt(row.gov_from_block),
    subFromBlock: BigInt(row.sub_from_block),
    result: row.result === null ? null : JSON.parse(row.result),
    error: row.error,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export type NewEntry = Omit<JournalEntry, "status" | "ledgerState" | "result" | "error" | "createdAt" | "updatedAt"> & {
  status?: LocalStatus;
};

export class Journal {
  constructor(
    private readonly _store: RelayerStore,
    private readonly _clock: () => number = Date.now,
  ) {
    _store.db.exec(SCHEMA);
  }

  /** Records a new transaction; `false` when (txId, role) or (role, pipe, sequence) is already journaled. */
  insert(entry: NewEntry): boolean {
    const now = this._clock();
    return (
      this._store
        .prepare(
          `INSERT INTO relayer_tx (tx_id, role, mode, pipe_id, sequence, packet, plan, status, gov_from_block,
                                   sub_from_block, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        )
        .run(
          entry.txId.toLowerCase(),
          entry.role,
          entry.mode,
          entry.pipeId.toLowerCase(),
          entry.sequence.toString(),
          json(toWire(entry.signed)),
          json(entry.plan),
          entry.status ?? "accepted",
          entry.govFromBlock.toString(),
          entry.subFromBlock.toString(),
          now,
          now,
        ).changes === 1
    );
  }

  get(txId: Hex, role: Role): JournalEntry | null {
    const row = this._store
      .prepare("SELECT * FROM relayer_tx WHERE tx_id = ? AND role = ?")
      .get(txId.toLowerCase(), role) as Row | undefined;
    return row === undefined ? null : toEntry(row);
  }

  require(txId: Hex, role: Role): JournalEntry {
    const entry = this.get(txId, role);
    if (entry === null)
      throw new CcgpError("JOURNAL_UNKNOWN_TX", `transaction ${txId} is not in the journal as ${role}`, { txId, role });
    return entry;
  }

  /** Every role this relayer has in a transaction. */
  find(txId: Hex): JournalEntry[] {
    const rows = this._store.prepare("SELECT * FROM relayer_tx WHERE tx_id = ?").all(txId.toLowerCase()) as Row[];
    return rows.map(toEntry);
  }

  update(
    txId: Hex,
    role: Role,
    change: {
      status?: LocalStatus;
      ledgerState?: number;
      result?: unknown;
      error?: string | null;
      signed?: SignedPacket;
    },
  ): void {
    // Only the columns that change are written: this runs on every ledger event of the transaction.
    const sets: string[] = [];
    const values: unknown[] = [];
    const set = (column: string, value: unknown): void => {
      sets.push(`${column} = ?`);
      values.push(value);
    };
    if (change.status !== undefined) set("status", change.status);
    if (change.ledgerState !== undefined) set("ledger_state", change.ledgerState);
    if (change.result !== undefined) set("result", json(change.result));
    if (change.error !== undefined) set("error", change.error);
    if (change.signed !== undefined) set("packet", json(toWire(change.signed)));
    set("updated_at", this._clock());
    const changed = this._store
      .prepare(`UPDATE relayer_tx SET ${sets.join(", ")} WHERE tx_id = ? AND role = ?`)
      .run(...values, txId.toLowerCase(), role).changes;
    if (changed === 0)
      throw new CcgpError("JOURNAL_UNKNOWN_TX", `transaction ${txId} is not in the journal as ${role}`, { txId, role });
  }

  /** Gives a not-yet-opened transaction a new sequence and its packet re-signed for it (chain-initiated mode). */
  resequence(txId: Hex, signed: SignedPacket): void {
    this._store
      .prepare(
        `UPDATE relayer_tx SET sequence = ?, packet = ?, updated_at = ?
         WHERE tx_id = ? AND role = 'initiator' AND status = 'accepted'`,
      )
      .run(signed.packet.sequence.toString(), json(toWire(signed)), this._clock(), txId.toLowerCase());
  }

  /** Transactions this relayer still has something to do or to watch for. */
  unfinished(limit = 1_000): JournalEntry[] {
    const rows = this._store
      .prepare("SELECT * FROM relayer_tx WHERE status NOT IN ('finished', 'failed') ORDER BY created_at LIMIT ?")
      .all(limit) as Row[];
    return rows.map(toEntry);
  }

  /** Transactions finished at or after `sinceMs` (the ones a governance reorg may have un-finished). */
  finishedSince(sinceMs: number, limit = 10_000): JournalEntry[] {
    const rows = this._store
      .prepare("SELECT * FROM relayer_tx WHERE status = 'finished' AND updated_at >= ? ORDER BY updated_at LIMIT ?")
      .all(sinceMs, limit) as Row[];
    return rows.map(toEntry);
  }

  /**
   * The highest sequence journaled on a pipe by this relayer as initiator (0n when none): a transaction's own, or
   * the last packet's of a plan with several target steps. Sequences are decimal text without leading zeros, so
   * the longest, then the greatest, is the highest.
   */
  maxSequence(pipeId: Hex): bigint {
    const row = this._store
      .prepare(
        `SELECT s FROM (
           SELECT sequence AS s FROM relayer_tx WHERE role = 'initiator' AND pipe_id = @pipe
           UNION ALL
           SELECT json_extract(plan, '$.packets[#-1].packet.sequence') FROM relayer_tx
            WHERE role = 'initiator' AND pipe_id = @pipe AND json_type(plan, '$.packets') = 'array'
         ) WHERE s IS NOT NULL ORDER BY length(s) DESC, s DESC LIMIT 1`,
      )
      .get({ pipe: pipeId.toLowerCase() }) as { s: string } | undefined;
    return row === undefined ? 0n : BigInt(row.s);
  }

  /** Initiator transactions of the pipe still waiting to be opened, lowest sequence first. */
  unopened(pipeId: Hex): JournalEntry[] {
    const rows = this._store
      .prepare("SELECT * FROM relayer_tx WHERE role = 'initiator' AND pipe_id = ? AND status = 'accepted'")
      .all(pipeId.toLowerCase()) as Row[];
    return rows.map(toEntry).sort((a, b) => (a.sequence < b.sequence ? -1 : 1));
  }
}
