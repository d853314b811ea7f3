/** The auditor's queries behind one object, shared by the CLI and the HTTP API. */
import type { Hex } from "viem";
import type { TransactionLedger } from "../../typechain-types";
import { findAnomalies, type AnomalyOptions, type AnomalyReport } from "./anomalies";
import { AuditorError, AuditorErrorCode, badInput } from "./errors";
import { listEvents, listTransactions, type EventFilter, type ListFilter } from "./list";
import { checkReceipts, type ReceiptCheck, type SubchainReader } from "./receipts";
import { reconcileAcrossChains, type ReconciliationReport } from "./reconcile";
import type { IndexStore } from "./store";
import { traceTransaction, type TxSummary, type TxTrace } from "./trace";
import type { Checkpoint, EventRow, IndexIdentity } from "./types";

export interface AuditorQueriesOptions {
  store: IndexStore;
  /** Sub-chain RPCs: needed for receipt checks and reconciliation. */
  reader?: SubchainReader;
  /** The ledger on the governance chain: needed for reconciliation. */
  ledger?: TransactionLedger;
}

export interface IndexStatus {
  identity: IndexIdentity | null;
  checkpoint: Checkpoint | null;
  events: number;
  transactions: number;
}

export type CheckedTrace = TxTrace & { receipts?: ReceiptCheck[] };

export class AuditorQueries {
  constructor(private readonly _o: AuditorQueriesOptions) {}

  get store(): IndexStore {
    return this._o.store;
  }

  status(): IndexStatus {
    const store = this._o.store;
    const transactions = (store.statement("SELECT COUNT(*) AS n FROM transactions").get() as { n: number }).n;
    return { identity: store.identity(), checkpoint: store.checkpoint(), events: store.eventCount(), transactions };
  }

  /** The trace of a transaction; with `receipts`, each result and compensation checked on its sub-chain. */
  async trace(txId: string, opts: { receipts?: boolean } = {}): Promise<CheckedTrace> {
    const trace = traceTransaction(this._o.store, txId);
    if (trace === null)
      throw new AuditorError(AuditorErrorCode.UnknownTx, `no transaction ${txId} in the index`, { txId });
    if (!opts.receipts) return trace;
    if (this._o.reader === undefined)
      throw badInput("receipt checks need sub-chain RPCs (--subchain-rpc <chainId>=<url>)");
    return { ...trace, receipts: await checkReceipts(this._o.store, trace, this._o.reader) };
  }

  transactions(filter: ListFilter = {}): TxSummary[] {
    return listTransactions(this._o.store, filter);
  }

  events(filter: EventFilter = {}): EventRow[] {
    return listEvents(this._o.store, filter);
  }

  anomalies(opts: AnomalyOptions = {}): AnomalyReport {
    return findAnomalies(this._o.store, opts);
  }

  async reconcile(txIds?: Hex[]): Promise<ReconciliationReport> {
    const { ledger, reader, store } = this._o;
    if (ledger === undefined || reader === undefined)
      throw badInput(
        "reconciliation needs the governance RPC and the sub-chain RPCs (--rpc, --subchain-rpc <chainId>=<url>)",
      );
    return reconcileAcrossChains({ store, ledger, reader, ...(txIds === undefined ? {} : { txIds }) });
  }
}
