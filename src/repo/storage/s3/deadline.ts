/**
 * Bounds for S3 requests. The SDK's own requestTimeout only logs a warning in the version we use
 * (unless throwOnRequestTimeout is set) and its retry sleeps do not watch any signal, so every
 * driver call runs under a deadline of its own: the whole call — connecting, every attempt,
 * the backoff between attempts and reading the answer — ends within `timeoutMs`, or fails with
 * a REPOSITORY error naming the endpoint and the bound. The caller's interrupt signal (SIGINT,
 * SIGTERM) ends the calls in flight at once with the signal's reason; calls made after it (the
 * command's cleanup: releasing its lock, aborting an upload) get CLEANUP_MS at most.
 *
 * Inside that bound each attempt is abandoned (and retried by the SDK) when the connection is
 * not established within min(10 s, timeout/3) or the socket stays silent for timeout/3, so a
 * black-holed endpoint gets about three attempts before the deadline.
 */
import { PgkeepError } from '../../../errors.js';

/** Default bound of one S3 request, retries included ([repo] s3_timeout). */
export const DEFAULT_S3_TIMEOUT_MS = 60_000;
/** Bound of a call made after the interrupt (cleanup), within the CLI's 5 s grace period. */
export const CLEANUP_MS = 3_000;

export interface AttemptBounds {
  connectionTimeout: number;
  socketTimeout: number;
  requestTimeout: number;
  throwOnRequestTimeout: true;
}

/** The request handler's per-attempt settings for a whole-request bound. */
export function attemptBounds(timeoutMs: number): AttemptBounds {
  const idle = Math.max(500, Math.round(timeoutMs / 3));
  return { connectionTimeout: Math.min(10_000, idle), socketTimeout: idle, requestTimeout: timeoutMs, throwOnRequestTimeout: true };
}

/** Thrown inside the driver when a call's deadline passed; s3Error turns it into the user's message. */
export class S3DeadlineExceeded extends Error {
  constructor(
    readonly timeoutMs: number,
    readonly last: unknown,
  ) {
    super(`no complete answer within ${timeoutMs} ms`);
    this.name = 'S3DeadlineExceeded';
  }
}

/**
 * Run `fn` with a signal that fires at the deadline or on interrupt, and stop waiting for it at
 * that moment even if it does not listen (the late result or error is dropped). The timer keeps
 * the process alive until the deadline, so a request that holds no socket cannot let it exit.
 */
export async function withDeadline<T>(
  timeoutMs: number,
  interrupt: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (interrupt?.aborted) return withDeadline(Math.min(timeoutMs, CLEANUP_MS), undefined, fn);
  // One controller per call, fired by the deadline or the interrupt (no AbortSignal.any: the
  // interrupt signal lives as long as the process and would collect thousands of dependents).
  const controller = new AbortController();
  let timedOut = false;
  let stopWaiting!: () => void;
  const ended = new Promise<never>((_, reject) => {
    stopWaiting = () => reject(new Error('aborted'));
  });
  const onInterrupt = () => {
    controller.abort();
    stopWaiting();
  };
  const timer = setTimeout(() => {
    timedOut = true;
    onInterrupt();
  }, timeoutMs);
  interrupt?.addEventListener('abort', onInterrupt, { once: true });
  const work = fn(controller.signal);
  work.catch(() => undefined); // may settle after we stopped waiting
  try {
    return await Promise.race([work, ended]);
  } catch (e) {
    if (interrupt?.aborted) throw interruptReason(interrupt);
    if (timedOut) throw new S3DeadlineExceeded(timeoutMs, e);
    throw e;
  } finally {
    clearTimeout(timer);
    interrupt?.removeEventListener('abort', onInterrupt);
  }
}

function interruptReason(signal: AbortSignal): unknown {
  return signal.reason instanceof PgkeepError ? signal.reason : new PgkeepError('INTERRUPTED', 'interrupted');
}
