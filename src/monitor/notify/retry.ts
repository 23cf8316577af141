/** Bounded retries of one delivery: each attempt has a time limit, waits grow between them. */

export interface RetryOptions {
  /** Attempts after the first one. */
  retries: number;
  /** Bound of one attempt in ms. */
  timeoutMs: number;
  /** Wait before the first retry in ms (doubled each time, at most 30 s). */
  backoffMs?: number;
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/** Run `attempt` until it succeeds or the retries are spent; throws the last error then. */
export async function withRetries(attempt: (signal: AbortSignal) => Promise<void>, o: RetryOptions): Promise<void> {
  let wait = o.backoffMs ?? 1000;
  for (let i = 0; ; i++) {
    const timeout = AbortSignal.timeout(o.timeoutMs);
    try {
      await attempt(o.signal ? AbortSignal.any([o.signal, timeout]) : timeout);
      return;
    } catch (e) {
      if (i >= o.retries || o.signal?.aborted) throw e;
      await sleep(wait, o.signal);
      wait = Math.min(wait * 2, 30_000);
    }
  }
}
