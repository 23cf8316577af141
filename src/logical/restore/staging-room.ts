/**
 * Room for a copy of an archive out of the repository (pg_restore -j and the directory format
 * read it from disk): checked before copying, and a disk that fills up anyway is told as such.
 */
import { statfsSync } from 'node:fs';
import { PgkeepError } from '../../errors.js';
import { targetDiskError } from '../../disk-errors.js';

const MIB = 1024 * 1024;
/** Kept free besides the copy, for the rest of the system. */
const MARGIN = 64 * MIB;
const STREAM_INSTEAD = 'or restore with --jobs 1 (pg_restore reads a custom archive as it streams from the repository; nothing is copied)';

export function requireRoom(dir: string, bytes: number, database: string): void {
  const s = statfsSync(dir);
  const free = Number(s.bavail) * Number(s.bsize);
  if (free >= bytes + MARGIN) return;
  throw new PgkeepError(
    'CONFLICT',
    `no room to copy the archive of database ${database} out of the repository into ${dir}: it needs ${(bytes / MIB).toFixed(0)} MiB (+${MARGIN / MIB} MiB spare), and ${(free / MIB).toFixed(0)} MiB are free`,
    {
      hint: `free space there, point TMPDIR at a larger file system, ${STREAM_INSTEAD}`,
      details: { dir, neededBytes: bytes, freeBytes: free },
    },
  );
}

/** Run `copy`; a full disk becomes a clear CONFLICT error naming the copy. */
export async function stagingWrite(dir: string, bytes: number, copy: () => Promise<void>): Promise<void> {
  try {
    await copy();
  } catch (e) {
    const disk = targetDiskError(e, { what: 'copy of the archive for pg_restore', dir, needed: bytes });
    if (!disk) throw e;
    throw new PgkeepError(disk.code, disk.message, { hint: `${disk.hint}; ${STREAM_INSTEAD}`, details: disk.details, cause: e });
  }
}
