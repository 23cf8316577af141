/**
 * Step "write files": directories (parents first), then plain symlinks, then the regular files
 * by N parallel writers (fresh, or by delta). The first failure stops the other writers and is
 * thrown; the in-progress marker stays, so the directory is known to be incomplete.
 */
import { mkdir, lstat, readlink, rm, symlink } from 'node:fs/promises';
import { withChunks, type FileRecord, type Repository, type Snapshot } from '../repo/index.js';
import { gatherBatches, writeBatch } from './write-batch.js';
import { FileCloser } from './file-closer.js';
import { setAttributes } from './file-attrs.js';
import type { OwnerResolver } from './ownership.js';
import type { PlannedEntry, RestorePlan } from './plan.js';
import { writeDelta, writeFresh, type FileOutcome } from './restore-file.js';
import type { RestoreStats } from './types.js';

export interface WriteContext {
  repo: Repository;
  snapshot: Snapshot;
  plan: RestorePlan;
  owners: OwnerResolver;
  delta: boolean;
  jobs: number;
  sync: boolean;
  /** Fsyncs and closes fresh files while the writers go on (made by writeFiles). */
  closer?: FileCloser;
  signal?: AbortSignal;
  stats: RestoreStats;
  /** A file's bytes were processed (written or found equal). */
  onBytes: (n: number, file: string) => void;
  onFileDone: (file: string) => void;
}

/** Make sure `path` is a real directory (a file or symlink in its place is removed first). */
export async function ensureDirectory(path: string, mode: number): Promise<boolean> {
  try {
    const st = await lstat(path);
    if (st.isDirectory()) return false;
    await rm(path, { recursive: true, force: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(path, { recursive: true, mode });
  return true;
}

export async function createDirectories(c: WriteContext): Promise<void> {
  for (const d of c.plan.directories) {
    c.signal?.throwIfAborted();
    if (await ensureDirectory(d.local, 0o700)) c.stats.directoriesCreated++;
    await setAttributes(d.local, d.record, c.owners);
  }
}

/** A symlink pointing at `target`; an existing entry of another kind or target is replaced. */
export async function ensureSymlink(path: string, target: string): Promise<boolean> {
  try {
    const st = await lstat(path);
    if (st.isSymbolicLink() && (await readlink(path)) === target) return false;
    await rm(path, { recursive: true, force: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await symlink(target, path);
  return true;
}

export async function createSymlinks(c: WriteContext): Promise<void> {
  for (const s of c.plan.symlinks) {
    if (await ensureSymlink(s.local, s.record.linkTarget ?? '')) c.stats.symlinksCreated++;
    await setAttributes(s.local, s.record, c.owners);
  }
}

/** Write one planned file (fresh or delta) and give it its attributes; `record`: its record with its chunks, when already read. */
export async function restoreOneFile(
  c: WriteContext,
  f: PlannedEntry,
  signal: AbortSignal,
  scratch: Buffer,
  record?: FileRecord,
): Promise<FileOutcome> {
  const o = {
    repo: c.repo,
    snapshot: c.snapshot,
    record: record ?? (await withChunks(c.snapshot, f.record)),
    local: f.local,
    signal,
    sync: c.sync,
    owners: c.owners,
    closer: c.closer,
    onBytes: (n: number) => c.onBytes(n, f.rel),
  };
  const outcome = c.delta ? await writeDelta(o, scratch) : await writeFresh(o);
  if (!outcome.attributesSet) await setAttributes(f.local, f.record, c.owners);
  const s = c.stats;
  if (outcome.written) s.filesWritten++;
  else s.filesUnchanged++;
  s.chunksWritten += outcome.chunksWritten;
  s.chunksUnchanged += outcome.chunksUnchanged;
  s.bytesWritten += outcome.bytesWritten;
  c.onFileDone(f.rel);
  return outcome;
}

/**
 * Files written at once per job. A file's life is a chain of waits (open, read its packs, decode
 * in a blob worker, fsync, close, attributes) and most files of a cluster are small, so with only
 * `jobs` files in flight the blob workers starved between files (measured: idle 65% of a
 * restore). Memory stays bounded: each file holds at most a few groups of blobs in flight
 * (file-reader.ts), and the blob workers stay `jobs`.
 */
export const FILES_PER_JOB = 4;

export async function writeFiles(c: WriteContext): Promise<void> {
  const stop = new AbortController();
  const signal = c.signal ? AbortSignal.any([c.signal, stop.signal]) : stop.signal;
  const files = c.plan.files;
  const queue = { files, next: 0 };
  let failure: unknown;
  const closer = new FileCloser(c.sync);
  const wc = { ...c, closer };
  const worker = async () => {
    const scratch = Buffer.allocUnsafe(c.snapshot.manifest.chunkSize);
    while (failure === undefined && queue.next < files.length) {
      const f = files[queue.next++]!;
      try {
        signal.throwIfAborted();
        // fresh small files stored side by side go in batches (write-batch.ts)
        const batches = c.delta ? undefined : await gatherBatches(wc, f, queue);
        if (!batches) await restoreOneFile(wc, f, signal, scratch);
        for (const b of batches ?? []) {
          if (b.entries.length > 1) await writeBatch(wc, b, signal);
          else await restoreOneFile(wc, b.entries[0]!.f, signal, scratch, b.entries[0]!.record);
        }
      } catch (e) {
        if (failure === undefined) {
          failure = c.signal?.aborted ? (c.signal.reason ?? e) : e;
          stop.abort(e);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(c.jobs * FILES_PER_JOB, files.length)) }, worker));
  // every file handed over is durable and closed before the step ends, whatever failed
  const closed = closer.drain().catch((e: unknown) => e);
  failure ??= await closed;
  if (failure !== undefined) throw failure;
}
