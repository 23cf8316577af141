/**
 * Step "begin": the data directory exists (0700), the in-progress marker is written and made
 * durable before any other file, and (--delta) an existing global/pg_control is moved aside, so
 * that from here until "finish" the directory can neither be mistaken for a complete restore
 * nor be started by accident.
 */
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { RESTORE_TEMP_PREFIX, writeMarker } from './marker.js';
import { PG_CONTROL } from './plan.js';

/** Where --delta keeps the old pg_control until "finish" compares and restores it. */
export function heldPgControlPath(dataDir: string): string {
  return join(dataDir, `${RESTORE_TEMP_PREFIX}-pg_control`);
}

export async function beginRestore(dataDir: string, snapshotId: string, cluster: string, delta: boolean): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeMarker(dataDir, snapshotId, cluster); // atomic and durable (marker.ts)
  if (delta) {
    try {
      await rename(join(dataDir, PG_CONTROL), heldPgControlPath(dataDir));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}
