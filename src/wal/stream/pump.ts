/**
 * Waiting for the next WAL event, a deadline, or a stop request — whichever comes first —
 * without losing an event that arrives while the receiver is busy with something else (the
 * pending `next()` is kept and handed out by the following call).
 *
 * No Promise.race against a long-lived promise: every race subscribes to it and the
 * subscriptions keep each settled result (and its WAL bytes) alive until it settles. Listeners
 * and timers here are removed as soon as a call returns.
 */
export type PumpResult<T> = { kind: 'event'; value: T } | { kind: 'done' } | { kind: 'idle' } | { kind: 'stop' };

export class EventPump<T> {
  private pending?: Promise<IteratorResult<T>>;

  constructor(
    private readonly it: AsyncIterator<T>,
    private readonly signal?: AbortSignal,
  ) {}

  /**
   * The next event, or 'idle' after `waitMs` (Infinity: no deadline; 0: only what is ready now),
   * or 'stop' once the signal fired. Errors of the stream are thrown.
   */
  next(waitMs: number): Promise<PumpResult<T>> {
    if (this.signal?.aborted) return Promise.resolve({ kind: 'stop' });
    const p = (this.pending ??= this.it.next());
    const signal = this.signal;
    return new Promise((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        settled = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        if (settled) return;
        cleanup();
        resolve({ kind: 'stop' });
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(waitMs)) {
        timer = setTimeout(
          () => {
            if (settled) return;
            cleanup();
            resolve({ kind: 'idle' });
          },
          Math.max(0, waitMs),
        );
      }
      p.then(
        (r) => {
          if (settled) return; // a later call hands this one out
          cleanup();
          if (this.pending === p) this.pending = undefined;
          resolve(r.done ? { kind: 'done' } : { kind: 'event', value: r.value });
        },
        (e) => {
          if (settled) return;
          cleanup();
          if (this.pending === p) this.pending = undefined;
          reject(e);
        },
      );
    });
  }

  /** Stop iterating (ends the stream politely) and drop a pending event. */
  async close(): Promise<void> {
    this.pending?.catch(() => {});
    this.pending = undefined;
    await this.it.return?.().catch(() => undefined);
  }
}
