/**
 * Waiting for the next WAL event, a deadline, or a stop request — whichever comes first —
 * without losing an event that arrives while the receiver is busy with something else (the
 * pending `next()` is kept and handed out by the following call).
 */
export type PumpResult<T> = { kind: 'event'; value: T } | { kind: 'done' } | { kind: 'idle' } | { kind: 'stop' };

export class EventPump<T> {
  private pending?: Promise<IteratorResult<T>>;
  private readonly stopped: Promise<'stop'>;
  private onAbort?: () => void;

  constructor(private readonly it: AsyncIterator<T>, private readonly signal?: AbortSignal) {
    this.stopped = new Promise((resolve) => {
      this.onAbort = () => resolve('stop');
      if (signal?.aborted) resolve('stop');
      else signal?.addEventListener('abort', this.onAbort, { once: true });
    });
  }

  /**
   * The next event, or 'idle' after `waitMs` (Infinity: no deadline; 0: only what is ready now),
   * or 'stop' once the signal fired. Errors of the stream are thrown.
   */
  async next(waitMs: number): Promise<PumpResult<T>> {
    if (this.signal?.aborted) return { kind: 'stop' };
    this.pending ??= this.it.next();
    let timer: NodeJS.Timeout | undefined;
    const racers: Promise<IteratorResult<T> | 'idle' | 'stop'>[] = [this.pending, this.stopped];
    if (Number.isFinite(waitMs)) racers.push(new Promise((resolve) => (timer = setTimeout(() => resolve('idle'), Math.max(0, waitMs)))));
    try {
      const r = await Promise.race(racers);
      if (r === 'idle' || r === 'stop') return { kind: r };
      this.pending = undefined;
      return r.done ? { kind: 'done' } : { kind: 'event', value: r.value };
    } catch (e) {
      this.pending = undefined;
      throw e;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** Stop iterating (ends the stream politely) and drop a pending event. */
  async close(): Promise<void> {
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
    this.pending?.catch(() => {});
    this.pending = undefined;
    await this.it.return?.().catch(() => undefined);
  }
}
