/**
 * The derived tables (transactions, pipes, sub-chains) kept beside the events. Each event is applied in the same
 * SQLite transaction that stores it; after a reorg the rows it touched are rebuilt from the events that remain.
 */
import type Database from "better-sqlite3";
import { TxState } from "../../lib/domain/ledger-types";
import type { EventRow, JsonValue } from "./types";

const num = (v: JsonValue | undefined): number => Number(v);
const str = (v: JsonValue | undefined): string => String(v).toLowerCase();

/** The write steps of a packed step list (5 bits a step: bit 0 side, bit 1 write, bits 2-4 dependsOn + 1). */
export function writeMaskOf(steps: number, stepCount: number): number {
  let mask = 0;
  for (let i = 0; i < stepCount; i++) if ((Math.floor(steps / 2 ** (5 * i)) & 2) !== 0) mask |= 1 << i;
  return mask;
}

/** Affected keys of a set of events: what must be rebuilt when they are removed. */
export interface Touched {
  txIds: Set<string>;
  pipes: Set<string>;
  subchains: Set<string>;
}

export class Projections {
  private readonly _s;

  constructor(private readonly _db: Database.Database) {
    const p = (sql: string) => _db.prepare(sql);
    this._s = {
      pipeOf: p("SELECT source_institution, target_institution FROM pipes WHERE pipe_id = ?"),
      openTx:
        p(`INSERT INTO transactions (tx_id, number, pipe_id, opener, source_institution, target_institution, state,
          reason,
                 deadline, step_count, steps, write_mask, opened_at, opened_block, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)`),
      transition: p("UPDATE transactions SET state = ?, reason = ?, updated_at = ? WHERE tx_id = ?"),
      move: p("UPDATE transactions SET state = ?, updated_at = ? WHERE tx_id = ?"),
      done: p("UPDATE transactions SET done_mask = done_mask | ?, updated_at = ? WHERE tx_id = ?"),
      undone: p("UPDATE transactions SET undone_mask = undone_mask | ?, updated_at = ? WHERE tx_id = ?"),
      touch: p("UPDATE transactions SET updated_at = ? WHERE tx_id = ?"),
      pipe: p(`INSERT INTO pipes (pipe_id, source_signer, target_signer, source_institution, target_institution,
        source_subchain,
               target_subchain) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pipe_id) DO UPDATE SET source_signer =
               excluded.source_signer,
               target_signer = excluded.target_signer, source_institution = excluded.source_institution,
               target_institution = excluded.target_institution, source_subchain = excluded.source_subchain,
               target_subchain = excluded.target_subchain`),
      subchain: p(`INSERT INTO subchains (subchain_id, institution, chain_id, gateway, name) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (subchain_id) DO UPDATE SET institution = excluded.institution, chain_id =
                   excluded.chain_id,
                   gateway = excluded.gateway, name = excluded.name`),
      gatewayChanged: p("UPDATE subchains SET gateway = ? WHERE subchain_id = ?"),
      gateway: p(
        "INSERT OR IGNORE INTO subchain_gateways (subchain_id, gateway, block, log_index) VALUES (?, ?, ?, ?)",
      ),
    };
  }

  /** Applies one stored event to the projections. */
  apply(e: EventRow): void {
    const a = e.args;
    if (e.contract === "ledger") this._applyLedger(e);
    else if (e.contract === "chains" && e.event === "SubchainRegistered") {
      this._s.subchain.run(str(a.subchainId), num(a.institution), String(a.chainId), String(a.gateway), String(a.name));
      this._s.gateway.run(str(a.subchainId), String(a.gateway), e.block, e.logIndex);
    } else if (e.contract === "chains" && e.event === "SubchainGatewayChanged") {
      this._s.gatewayChanged.run(String(a.gateway), str(a.subchainId));
      this._s.gateway.run(str(a.subchainId), String(a.gateway), e.block, e.logIndex);
    }
  }

  private _applyLedger(e: EventRow): void {
    const a = e.args;
    const bit = (step: JsonValue | undefined) => 1 << num(step);
    switch (e.event) {
      case "TxOpened": {
        const pipe = this._s.pipeOf.get(e.pipeId) as
          { source_institution: number; target_institution: number } | undefined;
        const steps = num(a.steps);
        const count = num(a.stepCount);
        this._s.openTx.run(
          e.txId,
          num(a.number),
          e.pipeId,
          String(a.opener),
          pipe?.source_institution ?? null,
          pipe?.target_institution ?? null,
          TxState.Open,
          num(a.deadline),
          count,
          steps,
          writeMaskOf(steps, count),
          e.timestamp,
          e.block,
          e.timestamp,
        );
        return;
      }
      case "TxTransitioned":
        this._s.transition.run(num(a.to), num(a.reason), e.timestamp, e.txId);
        return;
      case "ResultRecorded": // a failed result's moves are TxTransitioned; the normal path's are `to` here
        if (a.success === true) this._s.done.run(bit(a.step), e.timestamp, e.txId);
        if (e.state !== null) this._s.move.run(e.state, e.timestamp, e.txId);
        return;
      case "Endorsed": // a confirmation (`to`); a move to Manual is a TxTransitioned
        if (e.state !== null) this._s.move.run(e.state, e.timestamp, e.txId);
        return;
      case "StaleReadRejected": // the stale write counts as done, so that it is undone
        this._s.done.run(bit(a.step), e.timestamp, e.txId);
        return;
      case "CompensationRecorded":
        if (a.success === true) this._s.undone.run(bit(a.step), e.timestamp, e.txId);
        else this._s.touch.run(e.timestamp, e.txId);
        return;
      case "PipeSynced":
        this._s.pipe.run(
          e.pipeId,
          String(a.sourceSigner),
          String(a.targetSigner),
          num(a.sourceInstitution),
          num(a.targetInstitution),
          str(a.sourceSubchain),
          str(a.targetSubchain),
        );
        return;
    }
  }

  /** The keys events touch, to rebuild after they are removed. */
  static touched(rows: Array<Pick<EventRow, "contract" | "event" | "txId" | "pipeId" | "args">>): Touched {
    const t: Touched = { txIds: new Set(), pipes: new Set(), subchains: new Set() };
    for (const r of rows) {
      if (r.contract === "ledger" && r.txId !== null) t.txIds.add(r.txId);
      if (r.contract === "ledger" && r.event === "PipeSynced" && r.pipeId !== null) t.pipes.add(r.pipeId);
      if (r.contract === "chains" && r.event.startsWith("Subchain")) t.subchains.add(str(r.args.subchainId));
    }
    return t;
  }

  /** Rebuilds the rows of `touched` from the events left in the index (after a rewind deleted some). */
  rebuild(touched: Touched, eventsWhere: (where: string, params: unknown[]) => EventRow[]): void {
    for (const pipe of touched.pipes) {
      this._db.prepare("DELETE FROM pipes WHERE pipe_id = ?").run(pipe);
      for (const e of eventsWhere("pipe_id = ? AND contract = 'ledger' AND event = 'PipeSynced'", [pipe]))
        this.apply(e);
    }
    for (const id of touched.subchains) {
      this._db.prepare("DELETE FROM subchains WHERE subchain_id = ?").run(id);
      const where = "contract = 'chains' AND event LIKE 'Subchain%' AND lower(json_extract(args, '$.subchainId')) = ?";
      for (const e of eventsWhere(where, [id])) this.apply(e);
    }
    for (const txId of touched.txIds) {
      this._db.prepare("DELETE FROM transactions WHERE tx_id = ?").run(txId);
      for (const e of eventsWhere("tx_id = ? AND contract = 'ledger'", [txId])) this.apply(e);
    }
  }
}
