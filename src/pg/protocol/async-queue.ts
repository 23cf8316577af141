/**
 * A single-consumer async queue: the socket side pushes, the consumer pulls with `for await`.
 * Each item has a cost in bytes; `onTake` reports it when the consumer takes the item, so the
 * producer can resume a paused socket.
 */
export interface AsyncQueueHooks {
  /** The consumer took an item that was pushed with this cost. */
  onTake?(cost: number): void;
  /** The consumer stopped early (break / return() in a for-await loop). */
  onReturn?(): void;
}

export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private items: { value: T; cost: number }[] = [];
  private waiter?: { resolve(r: IteratorResult<T>): void; reject(e: unknown): void };
  private error?: unknown;
  private closed = false;
  private readonly hooks: AsyncQueueHooks;

  constructor(hooks: AsyncQueueHooks = {}) {
    this.hooks = hooks;
  }

  get length(): number {
    return this.items.length;
  }

  /** The last item not yet taken (to coalesce, e.g., progress reports). */
  peekLast(): T | undefined {
    return this.items[this.items.length - 1]?.value;
  }

  replaceLast(value: T): void {
    const last = this.items[this.items.length - 1];
    if (last) last.value = value;
  }

  push(value: T, cost = 0): void {
    if (this.closed || this.error !== undefined) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      this.hooks.onTake?.(cost);
      w.resolve({ value, done: false });
      return;
    }
    this.items.push({ value, cost });
  }

  /** No more items; the consumer finishes after taking what is queued. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.waiter && this.items.length === 0) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: undefined, done: true });
    }
  }

  /** Fail the consumer at once (queued items are dropped). */
  fail(err: unknown): void {
    if (this.error !== undefined || (this.closed && this.items.length === 0)) return;
    this.error = err;
    for (const it of this.items) this.hooks.onTake?.(it.cost);
    this.items = [];
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.reject(err);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.error !== undefined) return Promise.reject(this.error);
    const it = this.items.shift();
    if (it) {
      this.hooks.onTake?.(it.cost);
      return Promise.resolve({ value: it.value, done: false });
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter) return Promise.reject(new Error('AsyncQueue: next() called while another next() is pending'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.closed && this.error === undefined) {
      this.closed = true;
      for (const it of this.items) this.hooks.onTake?.(it.cost);
      this.items = [];
      this.hooks.onReturn?.();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/**
 * Pauses a producer when more than `high` bytes wait for the consumer and resumes it below `low`.
 */
export class FlowControl {
  private pending = 0;
  private paused = false;
  private readonly high: number;
  private readonly low: number;
  private readonly pause: () => void;
  private readonly resume: () => void;

  constructor(o: { high: number; low?: number; pause: () => void; resume: () => void }) {
    this.high = o.high;
    this.low = o.low ?? Math.floor(o.high / 2);
    this.pause = o.pause;
    this.resume = o.resume;
  }

  get bytes(): number {
    return this.pending;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  add(n: number): void {
    this.pending += n;
    if (!this.paused && this.pending > this.high) {
      this.paused = true;
      this.pause();
    }
  }

  sub(n: number): void {
    this.pending -= n;
    if (this.paused && this.pending <= this.low) {
      this.paused = false;
      this.resume();
    }
  }

  /** Resume unconditionally (e.g. to drain a connection that is being shut down). */
  release(): void {
    if (this.paused) {
      this.paused = false;
      this.resume();
    }
  }
}
