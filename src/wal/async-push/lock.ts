/**
 * One background pusher per spool: pusher.lock holds its pid, created exclusively. A lock whose
 * pid is gone (or now belongs to a process that is not a pusher) is taken over. Two processes
 * taking over the same stale lock at once could both believe they won; the pusher re-reads the
 * lock on every round and stops when it is no longer its own, and a brief overlap is harmless:
 * pushes are write-once (same bytes = done) and acknowledgements idempotent.
 */
import { readFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../../pg/process-alive.js';
import { claimPidFile } from '../pid-file.js';

export const LOCK_FILE = 'pusher.lock';
/** The hidden subcommand the pusher runs as; a pid whose command line lacks it is not a pusher. */
export const PUSHER_COMMAND = 'push-worker';

export function lockHolder(spoolDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(spoolDir, LOCK_FILE), 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Is a live pusher holding the lock? */
export function pusherRunning(spoolDir: string): boolean {
  const pid = lockHolder(spoolDir);
  return pid !== undefined && isPusher(pid);
}

function isPusher(pid: number): boolean {
  if (!processAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(PUSHER_COMMAND);
  } catch {
    return true; // no /proc (or not ours to read): trust the pid
  }
}

/** Take the lock for this process; false when a live pusher holds it. */
export function claimPusherLock(spoolDir: string): Promise<boolean> {
  return claimPidFile(join(spoolDir, LOCK_FILE), () => pusherRunning(spoolDir));
}

export function holdsLock(spoolDir: string): boolean {
  return lockHolder(spoolDir) === process.pid;
}

export async function releasePusherLock(spoolDir: string): Promise<void> {
  if (holdsLock(spoolDir)) await unlink(join(spoolDir, LOCK_FILE)).catch(() => undefined);
}
