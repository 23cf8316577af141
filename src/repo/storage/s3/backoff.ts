/**
 * Exponential backoff with full jitter for the few cases the SDK's own retry strategy does not
 * cover (409 ConditionalRequestConflict on conditional writes). The SDK itself retries
 * throttling, 5xx and transient network errors (see `maxAttempts` in s3-driver.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffOptions {
  attempts: number;
  baseMs: number;
  maxMs: number;
  signal?: AbortSignal;
}

export async function withBackoff<T>(fn: () => Promise<T>, retryable: (e: unknown) => boolean, opts: BackoffOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= opts.attempts || !retryable(e)) throw e;
      const cap = Math.min(opts.maxMs, opts.baseMs * 2 ** (attempt - 1));
      await sleep(Math.random() * cap, undefined, opts.signal ? { signal: opts.signal } : undefined);
    }
  }
}
