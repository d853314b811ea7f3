/**
 * Waits for transaction receipts with one poll loop per chain instead of one per transaction: each round is one
 * JSON-RPC batch (`eth_blockNumber` and the receipt of every awaited transaction), so the RPC volume does not grow
 * with the number of writes in flight. A transaction is looked for at once when it is awaited (a node that mines
 * on arrival has the receipt already), then 10 times as often as `pollIntervalMs` (at least every `QUICK_DELAY_MS`)
 * for its first `QUICK_WINDOW_MS` (a node that mines on arrival has it within a few ms; a look missed just before it
 * is mined would otherwise cost a whole `pollIntervalMs`), then every `pollIntervalMs`. A round is one batch, however
 * many transactions are awaited.
 *
 * A transaction already looked for is looked for again only once the chain has a block it was not looked for in
 * (the previous round's head is above the head of its last look), and in any case every `pollIntervalMs` (a node
 * need not answer a batch in order, so a look may miss a block mined just before it). A busy relayer awaits many
 * transactions at once; asking for every one of them every few ms, block or not, was most of its calls to the
 * node (106 receipt lookups per cross-chain transaction in the e2e bench).
 *
 * A receipt resolves only once it is `confirmations` deep (1: mined), read in the same batch as the head, so a
 * receipt that a reorg moved or removed is followed to its new block, never reported from the old one.
 *
 * A transaction the node no longer has (a reorg dropped it, or the node restarted and lost its pool) would never be
 * mined, and every later one from the same account would wait behind its nonce. So a transaction still without a
 * receipt after `DROP_CHECK_MS` is looked up too (in the same batch, at most once per `DROP_CHECK_MS`): if the node
 * does not know it, or its nonce is above the sender's next one on the node (a gap below it: a reorg removed a
 * mined transaction of the sender's, which was not sent again), its waiter fails at once with `CHAIN_TX_DROPPED` and
 * `onDropped` is told (the sender reads its nonce from the node again, so the next write fills the gap).
 */
import { formatTransactionReceipt, type Hex, type RpcTransactionReceipt, type TransactionReceipt } from "viem";
import { CcgpError } from "../../../../lib/infra/errors";
import type { JsonRpcHttp } from "./rpc";

interface Waiter {
  hash: Hex;
  confirmations: bigint;
  deadline: number;
  /** Until when (ms since the epoch) the waiter is looked for quickly, then at the poll interval. */
  quickUntil: number;
  /** The head when it was last looked for (none yet: look at once). */
  lookedAt?: bigint;
  /** When the node was last asked whether it still has the transaction (ms since the epoch). */
  checkedAt: number;
  /** Sender and nonce, once the node was asked about the transaction. */
  from?: Hex;
  nonce?: bigint;
  resolve: (receipt: TransactionReceipt) => void;
  reject: (error: unknown) => void;
}

/** Shortest delay between the quick looks at a new transaction (ms). */
const QUICK_DELAY_MS = 2;
/** How long a new transaction is looked for quickly (ms): a block mined on arrival, on a loaded machine. */
const QUICK_WINDOW_MS = 100;
/** How long a transaction may lack a receipt before the node is asked whether it still has it (ms), and how often. */
export const DROP_CHECK_MS = 3_000;

export class ReceiptWaiter {
  private readonly _waiters = new Set<Waiter>();
  private _timer: NodeJS.Timeout | undefined;
  private _running = false;
  /** The head seen by the last round. */
  private _head: bigint | undefined;
  /** When every waiter was last looked for (ms since the epoch). */
  private _allAt = 0;
  /** Rounds that failed in a row (transport faults), for the log. */
  failures = 0;

  constructor(
    private readonly _rpc: JsonRpcHttp,
    private readonly _chain: string,
    private readonly _pollIntervalMs: number,
    private readonly _onError?: (error: unknown) => void,
    private readonly _onDropped?: (hash: Hex) => void,
  ) {}

  wait(hash: Hex, confirmations: number, timeoutMs: number): Promise<TransactionReceipt> {
    return new Promise((resolve, reject) => {
      this._waiters.add({
        hash,
        confirmations: BigInt(Math.max(1, confirmations)),
        deadline: Date.now() + timeoutMs,
        quickUntil: Date.now() + QUICK_WINDOW_MS,
        checkedAt: Date.now(),
        resolve,
        reject,
      });
      this._schedule(0);
    });
  }

  /** Rejects every waiter (the plugin is being shut down). */
  close(): void {
    clearTimeout(this._timer);
    for (const w of this._waiters)
      w.reject(
        new CcgpError("CHAIN_CLOSED", `chains.${this._chain}: closed while waiting for ${w.hash}`, { hash: w.hash }),
      );
    this._waiters.clear();
  }

  private _schedule(delayMs: number): void {
    if (this._running) return; // the round in progress schedules the next one
    clearTimeout(this._timer);
    this._timer = setTimeout(() => void this._round(), delayMs);
  }

  private async _round(): Promise<void> {
    this._running = true;
    const seen = this._head;
    const all = seen === undefined || Date.now() - this._allAt >= this._pollIntervalMs;
    if (all) this._allAt = Date.now();
    const waiters = [...this._waiters].filter((w) => all || w.lookedAt === undefined || seen > w.lookedAt);
    const started = Date.now();
    const checked = waiters.filter((w) => started - w.checkedAt >= DROP_CHECK_MS);
    try {
      const answers = await this._rpc.batch([
        { method: "eth_blockNumber" },
        ...waiters.map((w) => ({ method: "eth_getTransactionReceipt", params: [w.hash] })),
        ...checked.map((w) => ({ method: "eth_getTransactionByHash", params: [w.hash] })),
        ...checked.map((w) => ({
          method: "eth_getTransactionCount",
          params: [w.from ?? "0x" + "0".repeat(40), "pending"],
        })),
      ]);
      if (answers[0] instanceof Error) throw answers[0];
      const head = BigInt(answers[0] as Hex);
      this._head = head;
      this.failures = 0;
      waiters.forEach((w, i) => {
        w.lookedAt = head;
        this._settle(w, head, answers[i + 1]);
      });
      checked.forEach((w, i) => {
        w.checkedAt = started;
        if (!this._waiters.has(w)) return; // settled above: its receipt came
        const tx = answers[waiters.length + 1 + i] as { from?: Hex; nonce?: Hex } | null | Error;
        if (tx instanceof Error) return;
        // The node's next nonce for the sender stops at the first gap: below this one's, it waits behind a nonce
        // the node lost (a reorg removed a mined transaction of ours, and it was not sent again).
        const next = answers[waiters.length + 1 + checked.length + i];
        const gapped =
          tx !== null && w.from !== undefined && typeof next === "string" && BigInt(next) < (w.nonce ?? 0n);
        if (tx !== null && !gapped) {
          w.from = tx.from;
          w.nonce = tx.nonce === undefined ? undefined : BigInt(tx.nonce);
          return;
        }
        this._waiters.delete(w);
        this._onDropped?.(w.hash);
        w.reject(
          new CcgpError(
            "CHAIN_TX_DROPPED",
            tx === null
              ? `chains.${this._chain}: the node no longer has ${w.hash} ` +
                  "(a reorg or a restart dropped it); send it again"
              : `chains.${this._chain}: ${w.hash} waits behind nonce ${String(next)}, which the node lost; send again`,
            { chain: this._chain, hash: w.hash },
          ),
        );
      });
    } catch (error) {
      this.failures += 1;
      this._onError?.(error);
    } finally {
      this._running = false;
    }
    const now = Date.now();
    for (const w of this._waiters) {
      if (now <= w.deadline) continue;
      this._waiters.delete(w);
      w.reject(
        new CcgpError("CHAIN_RECEIPT_TIMEOUT", `chains.${this._chain}: no receipt for ${w.hash} in time`, {
          chain: this._chain,
          hash: w.hash,
        }),
      );
    }
    if (this._waiters.size === 0) return;
    const quick = [...this._waiters].some((w) => now < w.quickUntil);
    this._schedule(
      quick
        ? Math.min(this._pollIntervalMs, Math.max(QUICK_DELAY_MS, this._pollIntervalMs / 10))
        : this._pollIntervalMs,
    );
  }

  private _settle(w: Waiter, head: bigint, answer: unknown): void {
    if (answer === null || answer === undefined || answer instanceof Error) return;
    const receipt = formatTransactionReceipt(answer as RpcTransactionReceipt);
    if (head - receipt.blockNumber + 1n < w.confirmations) return;
    this._waiters.delete(w);
    w.resolve(receipt);
  }
}
