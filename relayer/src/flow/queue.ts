import { CcgpError } from "../../../lib/infra/errors";

/**
 * A FIFO queue with a hard capacity: a producer that finds it full is refused with `QUEUE_FULL` (which the
 * server answers with 503) instead of the queue growing without bound. Consumers may wait with `take`.
 */
export class BoundedQueue<T> {
  private readonly _items: T[] = [];
  private readonly _waiters: Array<(item: T | undefined) => void> = [];

  constructor(
    readonly capacity: number,
    readonly name = "queue",
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new CcgpError("FLOW_BAD_CAPACITY", `queue ${name} needs a capacity of at least 1`, { capacity });
  }

  get size(): number {
    return this._items.length;
  }

  push(item: T): void {
    const waiter = this._waiters.shift();
    if (waiter !== undefined) return waiter(item);
    if (this._items.length >= this.capacity)
      throw new CcgpError("QUEUE_FULL", `queue ${this.name} is full (${this.capacity} items); retry later`, {
        queue: this.name,
        capacity: this.capacity,
      });
    this._items.push(item);
  }

  shift(): T | undefined {
    return this._items.shift();
  }

  /** The next item, waiting for one if empty; `undefined` when `signal` aborts first. */
  take(signal: AbortSignal): Promise<T | undefined> {
    if (this._items.length > 0) return Promise.resolve(this._items.shift());
    if (signal.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        const index = this._waiters.indexOf(deliver);
        if (index >= 0) this._waiters.splice(index, 1);
        resolve(undefined);
      };
      const deliver = (item: T | undefined): void => {
        signal.removeEventListener("abort", onAbort);
        resolve(item);
      };
      this._waiters.push(deliver);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
