/**
 * One regular file onto disk, fresh or by delta.
 *
 * Fresh: the stored content, verified chunk by chunk and written at its offsets by the repository.
 * Delta: the local file is set to the recorded size, then each chunk of it is hashed and
 * compared with the recorded chunk hash; only chunks that differ are read from the repository
 * and written in place at their offset. A file that is missing or not a regular file is
 * (re)created.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fsync, openSync } from 'node:fs';
import { lstat, open, rm, type FileHandle } from 'node:fs/promises';
import type { FileRecord, Repository, Snapshot } from '../repo/index.js';
import { closeQuietly, type FileCloser, setAttributesOnFd } from './file-closer.js';
import type { OwnerResolver } from './ownership.js';

export interface FileOutcome {
  /** The file was created or changed. */
  written: boolean;
  chunksWritten: number;
  chunksUnchanged: number;
  bytesWritten: number;
  /** Owner, mode and mtime are set already (fresh files: on the descriptor). */
  attributesSet?: boolean;
}

export interface FileWriteOptions {
  repo: Repository;
  snapshot: Snapshot;
  record: FileRecord;
  local: string;
  signal: AbortSignal;
  sync: boolean;
  owners: OwnerResolver;
  /** Takes fresh files over once written, to fsync and close them (writeFiles); without it, at once. */
  closer?: FileCloser;
  /** Bytes of the file processed (written or found equal). */
  onBytes: (n: number) => void;
}

/** How a fresh file is opened (never through a symlink in its place). */
export const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
const UPDATE = constants.O_RDWR | constants.O_NOFOLLOW;

function context(o: FileWriteOptions): string {
  return `file "${o.record.path}" of snapshot ${o.snapshot.cluster}/${o.snapshot.id}`;
}

/**
 * Write the whole file from the repository (the repository's workers write it in place), give it
 * its owner, mode and mtime on the descriptor, then fsync and close it (through `closer`: later).
 */
export async function writeFresh(o: FileWriteOptions): Promise<FileOutcome> {
  const fd = openSync(o.local, CREATE, 0o600);
  let written = 0;
  try {
    if (o.record.size > 0) written = await o.repo.writeFile(o.snapshot, o.record, fd, { signal: o.signal, onBytes: o.onBytes });
    setAttributesOnFd(fd, o.record, o.owners);
  } catch (e) {
    closeQuietly(fd);
    throw e;
  }
  if (o.closer) await o.closer.close(fd);
  else await syncAndClose(fd, o.sync);
  return { written: true, chunksWritten: o.record.chunks.length, chunksUnchanged: 0, bytesWritten: written, attributesSet: true };
}

async function syncAndClose(fd: number, sync: boolean): Promise<void> {
  try {
    if (sync) await new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
  } finally {
    closeSync(fd);
  }
}

/** Bring an existing file to the recorded content, writing only the chunks that differ. */
export async function writeDelta(o: FileWriteOptions, scratch: Buffer): Promise<FileOutcome> {
  let st;
  try {
    st = await lstat(o.local);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return writeFresh(o);
    throw e;
  }
  if (!st.isFile()) {
    await rm(o.local, { recursive: true, force: true }); // a directory or symlink in its place: never followed
    return writeFresh(o);
  }
  const out: FileOutcome = { written: false, chunksWritten: 0, chunksUnchanged: 0, bytesWritten: 0 };
  const fh = await open(o.local, UPDATE);
  try {
    if (st.size !== o.record.size) {
      await fh.truncate(o.record.size);
      out.written = true;
    }
    for (const c of o.record.chunks) {
      o.signal.throwIfAborted();
      const same = c.offset < st.size && (await localChunkHash(fh, c.offset, c.size, scratch)) === c.sha256;
      if (same) out.chunksUnchanged++;
      else {
        const data = await o.repo.readChunk(c, context(o));
        await writeAll(fh, data, c.offset);
        out.chunksWritten++;
        out.bytesWritten += data.length;
        out.written = true;
      }
      o.onBytes(c.size);
    }
    if (o.sync && out.written) await fh.sync();
  } finally {
    await fh.close();
  }
  return out;
}

/** What writeDelta would do to the local file, without writing: nothing, create it, replace it (not a file), or update chunks. */
export async function compareLocalFile(
  record: FileRecord,
  local: string,
  scratch: Buffer,
): Promise<{ action: 'same' | 'create' | 'replace' | 'update'; chunks: number }> {
  let st;
  try {
    st = await lstat(local);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { action: 'create', chunks: record.chunks.length };
    throw e;
  }
  if (!st.isFile()) return { action: 'replace', chunks: record.chunks.length };
  const fh = await open(local, constants.O_RDONLY | constants.O_NOFOLLOW);
  let differ = 0;
  try {
    for (const c of record.chunks) {
      if (!(c.offset < st.size && (await localChunkHash(fh, c.offset, c.size, scratch)) === c.sha256)) differ++;
    }
  } finally {
    await fh.close();
  }
  return { action: differ > 0 || st.size !== record.size ? 'update' : 'same', chunks: differ };
}

async function localChunkHash(fh: FileHandle, offset: number, size: number, scratch: Buffer): Promise<string> {
  const buf = scratch.length >= size ? scratch.subarray(0, size) : Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const { bytesRead } = await fh.read(buf, got, size - got, offset + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return createHash('sha256').update(buf.subarray(0, got)).digest('hex');
}

async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}
