/** Giving a restored entry its recorded owner, mode and mtime; fsync helpers. */
import { constants } from 'node:fs';
import { chmod, lutimes, open, utimes } from 'node:fs/promises';
import type { FileRecord } from '../repo/index.js';
import { applyOwner, type OwnerResolver } from './ownership.js';

/** Owner (when root), then mode, then mtime (last: writing changes it). Symlinks: owner and mtime. */
export async function setAttributes(path: string, record: FileRecord, owners: OwnerResolver, opts: { mode?: number } = {}): Promise<void> {
  await applyOwner(path, owners.ownerOf(record));
  if (record.type === 'symlink') {
    await setMtime(path, record, true);
    return;
  }
  await chmod(path, (opts.mode ?? record.mode) & 0o7777);
  await setMtime(path, record, false);
}

export async function setMtime(path: string, record: FileRecord, isLink = record.type === 'symlink'): Promise<void> {
  if (!Number.isFinite(record.mtimeMs)) return;
  const t = record.mtimeMs / 1000;
  if (isLink) await lutimes(path, t, t);
  else await utimes(path, t, t);
}

/** fsync a directory (its entries become durable). */
export async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
