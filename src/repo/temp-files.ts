/**
 * Temporary files of writers (posix `.pgkeep-tmp-*`, S3 multipart uploads never completed): a
 * killed backup, gc or `wal push` leaves them behind, invisible to listings. `repo check` and `repo info` report them; `repo gc`
 * removes those that cannot belong to a running writer:
 *
 * - gc holds the exclusive lock, so no backup, dump, restore, verify or expire is running;
 * - `wal push` and lock heartbeats take no lock, so age protects them: a file is removed only
 *   when nothing has written to it for TEMP_SAFE_AGE_MS (a live writer keeps its mtime fresh;
 *   one segment is written in seconds);
 * - and, as for packs, nothing newer than the oldest shared lock still listed (a holder that
 *   may still be running).
 */
import type { StorageDriver, TemporaryObject } from './storage/driver.js';

/** Untouched this long, a temporary file belongs to no running writer. */
export const TEMP_SAFE_AGE_MS = 60 * 60_000;

export interface TempFilesSummary {
  count: number;
  bytes: number;
  /** Age of the oldest (seconds), 0 when none. */
  oldestAgeSeconds: number;
  /** How many are old enough for gc to remove. */
  removable: number;
}

export async function listTemporary(driver: StorageDriver): Promise<TemporaryObject[]> {
  const out: TemporaryObject[] = [];
  if (!driver.listTemporary) return out;
  for await (const t of driver.listTemporary()) out.push(t);
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** May gc remove this temporary file? (untouched long enough, and older than any listed shared lock) */
export function removableTemporary(t: TemporaryObject, now: number, oldestSharedLockMs?: number): boolean {
  if (now - t.mtimeMs < TEMP_SAFE_AGE_MS) return false;
  return oldestSharedLockMs === undefined || t.mtimeMs < oldestSharedLockMs - 1000;
}

export function summarizeTemporary(files: TemporaryObject[], now: number, oldestSharedLockMs?: number): TempFilesSummary {
  const oldest = files.reduce((m, t) => Math.min(m, t.mtimeMs), now);
  return {
    count: files.length,
    bytes: files.reduce((n, t) => n + t.size, 0),
    oldestAgeSeconds: Math.max(0, Math.round((now - oldest) / 1000)),
    removable: files.filter((t) => removableTemporary(t, now, oldestSharedLockMs)).length,
  };
}
