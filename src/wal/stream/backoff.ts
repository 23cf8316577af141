/**
 * Reconnecting when the server goes away: exponential backoff (1 s, 2 s, 4 s ... capped at 30 s
 * by default), and which failures are worth retrying. Pure.
 */
import { PgkeepError } from '../../errors.js';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 30_000 };

/** Delay before reconnect attempt `attempt` (0 = the first retry). */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const exp = policy.initialMs * 2 ** Math.min(attempt, 30);
  return Math.min(policy.maxMs, exp);
}

/**
 * Failures that a later attempt may not see: the server stopped, restarted, is starting up or
 * is not reachable for a while (CONNECTION, SERVER_NOT_READY), or the storage failed for a
 * moment (REPOSITORY). Everything else (different content, another system, WAL the server no
 * longer has, a missing slot, a wrong passphrase) needs a person and ends the receiver.
 */
export function isRetryable(e: unknown): boolean {
  return e instanceof PgkeepError && (e.code === 'CONNECTION' || e.code === 'SERVER_NOT_READY' || e.code === 'REPOSITORY');
}

/**
 * Before streaming ever started, only states that pass by themselves are retried: the slot is
 * still held by the walsender of a receiver that just died (55006), or the server is starting
 * up or shutting down (57P03, 57P01). Anything else is more likely a setting to fix.
 */
export function isRetryableAtStart(e: unknown): boolean {
  if (!(e instanceof PgkeepError)) return false;
  const d = e.details as { sqlstate?: string; reason?: string } | undefined;
  return ['55006', '57P03', '57P01'].includes(d?.sqlstate ?? d?.reason ?? '');
}
