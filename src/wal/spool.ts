/**
 * The prefetch spool: segments fetched ahead of recovery, one file per segment name, in a
 * directory keyed by repository id, cluster and system identifier (so a spool left by another
 * repository or system is never served). Entries appear by rename (never half-written), are
 * checked against their name when served, and leave the spool when served; segments recovery has
 * passed are pruned.
 */
import { copyFile, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isWalFileName, segmentNumberOf } from '../pg/wal-name.js';
import { readSegmentHeader } from '../pg/wal/identify.js';
import { PgkeepError } from '../errors.js';

export const SPOOL_TMP_PREFIX = '.tmp-';

/** Default spool root: inside pg_wal of the data directory recovery runs in. */
export function defaultSpoolRoot(dataDir: string): string {
  return join(dataDir, 'pg_wal', 'pgkeep-spool');
}

export function spoolDir(root: string, repoId: string, cluster: string, systemId: string): string {
  return join(root, `${repoId}-${cluster}-${systemId}`);
}

/**
 * Move a spooled segment to `destination` when the spool has it and it is what its name says.
 * Returns its segment size, or undefined when the spool cannot serve it.
 */
export async function takeFromSpool(dir: string, name: string, systemId: string, destination: string): Promise<number | undefined> {
  if (!isWalFileName(name)) return undefined;
  const path = join(dir, name);
  let head: Buffer;
  try {
    const h = await open(path, 'r');
    try {
      head = Buffer.alloc(64);
      await h.read(head, 0, 64, 0);
    } finally {
      await h.close();
    }
  } catch {
    return undefined;
  }
  let segSize: number;
  try {
    const hdr = readSegmentHeader(head, `spooled ${name}`);
    if (hdr.systemIdentifier !== systemId) throw new Error('system identifier differs');
    segSize = hdr.segmentSize;
    if (hdr.pageAddress !== BigInt(segSize) * segmentNumberOf(name, segSize)) throw new Error('page address differs');
  } catch {
    await unlink(path).catch(() => undefined); // never serve it; fetch from the repository instead
    return undefined;
  }
  try {
    await rename(path, destination);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw ioFailure(path, e);
    await copyFile(path, destination);
    await unlink(path).catch(() => undefined);
  }
  return segSize;
}

/** Remove spooled segments recovery has passed (position below `name`'s), and such temp files. */
export async function pruneSpool(dir: string, name: string): Promise<void> {
  if (!isWalFileName(name)) return;
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  // log+seg (the last 16 digits) order segments by position whatever the segment size.
  const current = name.slice(8);
  for (const e of entries) {
    if ((isWalFileName(e) && e.slice(8) < current) || (e.startsWith(SPOOL_TMP_PREFIX) && e.slice(SPOOL_TMP_PREFIX.length, SPOOL_TMP_PREFIX.length + 24).slice(8) < current)) {
      await rm(join(dir, e), { force: true });
    }
  }
}

/** Store a fetched segment in the spool (temp file, then rename). */
export async function putInSpool(dir: string, name: string, data: Uint8Array): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `${SPOOL_TMP_PREFIX}${name}-${process.pid}`);
  try {
    const h = await open(tmp, 'w', 0o600);
    try {
      await h.writeFile(data);
    } finally {
      await h.close();
    }
    await rename(tmp, join(dir, name));
  } catch (e) {
    // A full disk (the spool shares pg_wal's file system by default): leave no partial file.
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

export async function spoolHas(dir: string, name: string): Promise<boolean> {
  try {
    await stat(join(dir, name));
    return true;
  } catch {
    return false;
  }
}

function ioFailure(path: string, e: unknown): PgkeepError {
  return new PgkeepError('REPOSITORY', `cannot move spooled WAL ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
}
