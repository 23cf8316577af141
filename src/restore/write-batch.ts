/**
 * Fresh small files written in batches: the plan lists files by size class then path, the order
 * in which a backup stored them side by side, so a writer that takes a small file takes the next
 * small ones of the plan too and writes those that fit one read of their pack as one batch
 * (repo/file-batch.ts). Each file
 * is created and written by a blob worker once all its blobs passed their check, given its owner,
 * mode and mtime on the descriptor, then handed to the closer (fsync, close), as a single file is.
 */
import { PgkeepError } from '../errors.js';
import { BATCH_FILE_BYTES, FileBatch, withChunks, type FileRecord } from '../repo/index.js';
import { closeQuietly, setAttributesOnFd } from './file-closer.js';
import type { PlannedEntry } from './plan.js';
import { CREATE } from './restore-file.js';
import type { WriteContext } from './write-files.js';

export interface GatheredBatch {
  batch: FileBatch;
  entries: { f: PlannedEntry; record: FileRecord }[];
}

/** Plaintext bytes of small files a writer takes from the queue at once (then cut into batches). */
const WINDOW_BYTES = 1024 * 1024;
/** Small files a writer takes at once at most. */
const WINDOW_FILES = 64;

const small = (f: PlannedEntry) => f.record.size > 0 && f.record.size <= BATCH_FILE_BYTES;

/**
 * The small files from `first` (already taken from the queue) on, cut into batches: the next
 * small files of the queue are taken at once, synchronously (so the writers running side by side
 * do not split a run of neighbours between them), up to WINDOW_BYTES; their chunk lists are read,
 * and, in pack and offset order, each file joins the batch before it when it fits
 * (repo/file-batch.ts), else starts the next.
 * Undefined when `first` is not small; a batch of one entry is a file to write on its own (its
 * record, with its chunks, at hand).
 */
export async function gatherBatches(
  c: WriteContext,
  first: PlannedEntry,
  queue: { files: PlannedEntry[]; next: number },
): Promise<GatheredBatch[] | undefined> {
  if (!small(first)) return undefined;
  const taken = [first];
  let bytes = first.record.size;
  while (queue.next < queue.files.length && taken.length < WINDOW_FILES) {
    const f = queue.files[queue.next]!;
    if (!small(f) || bytes + f.record.size > WINDOW_BYTES) break;
    bytes += f.record.size;
    taken.push(f);
    queue.next++;
  }
  const records = await Promise.all(taken.map((f) => withChunks(c.snapshot, f.record)));
  // by pack and place in it: neighbours in the plan may lie in two packs, or reuse a blob stored earlier
  const order = taken.map((f, i) => ({ f, record: records[i]! }));
  const at = (r: FileRecord) => r.chunks[0]!;
  order.sort((a, b) =>
    at(a.record).pack < at(b.record).pack
      ? -1
      : at(a.record).pack > at(b.record).pack
        ? 1
        : at(a.record).packOffset - at(b.record).packOffset,
  );
  const out: GatheredBatch[] = [];
  let cur: GatheredBatch | undefined;
  for (const e of order) {
    // a batch whose first file could not be batched stays that one file
    if (cur && cur.batch.size === cur.entries.length && cur.batch.add(e.record)) {
      cur.entries.push(e);
      continue;
    }
    const batch = new FileBatch();
    batch.add(e.record); // false when it cannot be batched: then it stays a batch of one, written on its own
    cur = { batch, entries: [e] };
    out.push(cur);
  }
  return out;
}

/** Write a gathered batch; every descriptor is closed (or handed to the closer) whatever fails. */
export async function writeBatch(c: WriteContext, { batch, entries }: GatheredBatch, signal: AbortSignal): Promise<void> {
  if (batch.size !== entries.length || batch.records.some((r, i) => r.path !== entries[i]!.record.path)) {
    throw new PgkeepError('INTERNAL', 'a batch of small files does not list the files gathered for it');
  }
  let fds: number[] = [];
  let handed = 0;
  try {
    signal.throwIfAborted();
    // Created by the worker once their blobs passed their check: creating files can be slow (ext4
    // searching for an inode past thousands freed moments ago), and then holds a worker, not this thread.
    fds = await c.repo.writeFileBatch(
      c.snapshot,
      batch,
      entries.map((e) => ({ path: e.f.local, flags: CREATE, mode: 0o600 })),
    );
    for (const [i, e] of entries.entries()) setAttributesOnFd(fds[i]!, e.f.record, c.owners);
    for (const e of entries) {
      const fd = fds[handed++]!;
      await c.closer!.close(fd); // closes fd even when it throws
      const s = c.stats;
      s.filesWritten++;
      s.chunksWritten += e.record.chunks.length;
      s.bytesWritten += e.record.size;
      c.onBytes(e.record.size, e.f.rel);
      c.onFileDone(e.f.rel);
    }
  } finally {
    for (const fd of fds.slice(handed)) closeQuietly(fd);
  }
}
