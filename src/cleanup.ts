/**
 * Cleaning up after a failure (releasing a lock, deleting a temporary object) must never hide the
 * failure itself: an S3 outage mid-backup is reported as the failed upload, not as the lock delete
 * that failed after it. A cleanup error is attached to the original error as a note (printed after
 * the hint, "notes" in --json); it is thrown only when there was no original error.
 */
import { PgkeepError } from './errors.js';

/** Attach `note` to `err`: PgkeepError.notes, or a `notes` array that toPgkeepError carries over. */
export function addNote(err: unknown, note: string): void {
  if (err instanceof PgkeepError) err.notes.push(note);
  else if (err instanceof Error) {
    const holder = err as Error & { notes?: string[] };
    if (!Array.isArray(holder.notes)) Object.defineProperty(holder, 'notes', { value: [], enumerable: false, writable: true });
    holder.notes!.push(note);
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Run `cleanup` after `original` was thrown; a failure of it becomes a note on `original`. Never throws. */
export async function cleanUpAfter(original: unknown, what: string, cleanup: () => Promise<unknown>): Promise<void> {
  try {
    await cleanup();
  } catch (e) {
    addNote(original, `${what} also failed: ${message(e)}`);
  }
}

/**
 * Release a repository lock after the work succeeded. Its failure does not undo the work: with a
 * `warn` sink it becomes a warning (the lock is left behind, reported stale once this process has
 * exited, and `pgkeep repo unlock` removes it); without one it is thrown.
 */
export async function releaseAfterSuccess(what: string, release: () => Promise<unknown>, warn?: (message: string) => void): Promise<void> {
  if (!warn) {
    await release();
    return;
  }
  try {
    await release();
  } catch (e) {
    warn(
      `${what} failed: ${message(e)}; the work itself is done. The lock is left behind: ` +
        '"pgkeep repo locks" shows it as stale once this process has exited, and "pgkeep repo unlock <id>" removes it',
    );
  }
}

/**
 * `fn`, then `cleanup` however `fn` ends. A cleanup error after `fn` failed is a note on `fn`'s
 * error; after `fn` succeeded it goes to `warn` when given (see releaseAfterSuccess), else it is thrown.
 */
export async function withCleanup<T>(
  fn: () => Promise<T>,
  what: string,
  cleanup: () => Promise<unknown>,
  warn?: (message: string) => void,
): Promise<T> {
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    await cleanUpAfter(e, what, cleanup);
    throw e;
  }
  await releaseAfterSuccess(what, cleanup, warn);
  return result;
}
