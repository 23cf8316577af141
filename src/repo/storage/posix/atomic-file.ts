/**
 * Crash-safe publication of files: write a temporary file in the destination directory, fsync
 * it, then rename (replace) or link (create only if absent) it into place and fsync the
 * directory, so a reader sees either nothing or the complete object.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TEMP_PREFIX } from '../keys.js';
import { errnoOf } from './fs-errors.js';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/** A new, open, exclusive temporary file next to `finalPath`. */
export interface TempFile {
  path: string;
  handle: FileHandle;
}

/** Who new files and directories should belong to (see PosixDriver): undefined = whoever we are. */
export interface Owner {
  uid: number;
  gid: number;
}

/** Create the directory (and missing parents) with mode 0700, fsyncing each parent it changed. */
export async function ensureDir(dir: string, owner?: Owner): Promise<void> {
  const first = await fsp.mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (first === undefined) return;
  // Every directory from `first` down to `dir` is new: make their entries durable.
  let d = dir;
  const created: string[] = [];
  while (true) {
    created.push(d);
    if (d === first) break;
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  if (owner) for (const c of created) await fsp.chown(c, owner.uid, owner.gid);
  for (const c of created) await fsyncDir(dirname(c));
}

export async function openTemp(finalPath: string, owner?: Owner): Promise<TempFile> {
  const dir = dirname(finalPath);
  await ensureDir(dir, owner);
  const path = join(dir, `${TEMP_PREFIX}${randomBytes(12).toString('hex')}`);
  const handle = await fsp.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, FILE_MODE);
  try {
    await handle.chmod(FILE_MODE); // exact mode whatever the umask
    if (owner) await handle.chown(owner.uid, owner.gid);
  } catch (e) {
    await discardTemp({ path, handle });
    throw e;
  }
  return { path, handle };
}

/** fsync and close the temp file, then atomically replace `finalPath` with it. */
export async function publishReplace(tmp: TempFile, finalPath: string): Promise<void> {
  try {
    await tmp.handle.sync();
    await tmp.handle.close();
    await fsp.rename(tmp.path, finalPath);
  } catch (e) {
    await discardTemp(tmp);
    throw e;
  }
  await fsyncDir(dirname(finalPath));
}

/**
 * fsync and close the temp file, then hard-link it to `finalPath` only if that name is free
 * (link() fails with EEXIST atomically, across processes). Returns false when it existed.
 */
export async function publishIfAbsent(tmp: TempFile, finalPath: string): Promise<boolean> {
  let created = true;
  try {
    await tmp.handle.sync();
    await tmp.handle.close();
    try {
      await fsp.link(tmp.path, finalPath);
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST') throw e;
      created = false;
    }
  } finally {
    await discardTemp(tmp);
  }
  if (created) await fsyncDir(dirname(finalPath));
  return created;
}

/** Close (if open) and remove a temp file, ignoring errors: used on failure paths. */
export async function discardTemp(tmp: TempFile): Promise<void> {
  await tmp.handle.close().catch(() => undefined);
  await fsp.unlink(tmp.path).catch(() => undefined);
}

export async function fsyncDir(dir: string): Promise<void> {
  const h = await fsp.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
