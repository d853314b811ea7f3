/**
 * Adaptive batching of one kind of write (group commit). An item that finds nothing in flight is sent at once, alone,
 * so an idle relayer's latency is unchanged. Items that arrive while a write is in flight wait for it and then go
 * together in one batched call: the busier the relayer, the fuller the batch, and the chain sees one transaction
 * where it saw many.
 *
 * A batched call is all or nothing on the ledger: when it fails, each of its items is sent alone, so that a refusal
 * lands on its own item and the others go through.
 */
export interface CoalescerOptions<T, R> {
  /** One item alone: the path an idle relayer takes. */
  one: (item: T) => Promise<R>;
  /** Two or more items in one call, answering each in order (an answer may be an Error for that item alone). */
  many: (items: T[]) => Promise<Array<R | Error>>;
  /** The most items in one call (the ledger's MAX_BATCH). */
  max: number;
  /** Called when a batched call failed and its items go one by one. */
  onSplit?: (error: unknown, size: number) => void;
}

interface Waiting<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

export class Coalescer<T, R> {
  private readonly _queue: Array<Waiting<T, R>> = [];
  private _busy = false;

  constructor(private readonly _o: CoalescerOptions<T, R>) {}

  /** Sends `item` at once if nothing is in flight, else with the next batch; resolves with its own answer. */
  run(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this._queue.push({ item, resolve, reject });
      void this._drain();
    });
  }

  /** Items waiting for the write in flight. */
  get waiting(): number {
    return this._queue.length;
  }

  private async _drain(): Promise<void> {
    if (this._busy || this._queue.length === 0) return;
    this._busy = true;
    const batch = this._queue.splice(0, this._o.max);
    try {
      if (batch.length === 1) await settle(batch[0]!, () => this._o.one(batch[0]!.item));
      else await this._many(batch);
    } finally {
      this._busy = false;
      void this._drain();
    }
  }

  private async _many(batch: Array<Waiting<T, R>>): Promise<void> {
    let answers: Array<R | Error>;
    try {
      answers = await this._o.many(batch.map((w) => w.item));
    } catch (error) {
      this._o.onSplit?.(error, batch.length);
      await Promise.all(batch.map((w) => settle(w, () => this._o.one(w.item))));
      return;
    }
    batch.forEach((w, i) => {
      const answer = answers[i]!;
      if (answer instanceof Error) w.reject(answer);
      else w.resolve(answer);
    });
  }
}

async function settle<T, R>(w: Waiting<T, R>, send: () => Promise<R>): Promise<void> {
  try {
    w.resolve(await send());
  } catch (error) {
    w.reject(error);
  }
}
