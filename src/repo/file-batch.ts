/**
 * Small files written as a batch (restore): most files of a cluster are a few KiB and a backup
 * stores them side by side in a pack, in path order. Written one by one, each cost a range read
 * (a trip through libuv's pool), a worker task and its reply (two more thread wake-ups) and the
 * promises around them; a batch of such files is one read of their common range and one worker
 * task, which decodes and verifies each file's blobs and writes the file only once all of them
 * passed (blob-worker.ts decodeToFile).
 *
 * A file joins a batch when it is small, none of its chunks is a delta, all its blobs are in the
 * batch's pack, and the batch's range stays within one read buffer without reading over much
 * that no file of the batch uses.
 */
import { PgkeepError } from '../errors.js';
import { decodeRangeToFile } from './blob-reader.js';
import type { RepoCore } from './core.js';
import { packFilePaths } from './file-reader.js';
import type { BlobPlace } from './integrity.js';
import type { FileRecord } from './manifest.js';
import type { DecodeItem, DecodeToFile } from './worker-pool.js';

/** Files of at most this many bytes may join a batch. */
export const BATCH_FILE_BYTES = 256 * 1024;
/** Stored bytes of a batch's range at most (the size of a recycled read buffer, blob-reader.ts). */
const BATCH_RANGE_BYTES = 1024 * 1024;
/** Files in one batch at most. */
const BATCH_FILES = 64;
/** Bytes a file may add to the range beyond its own blobs (blobs of other files read over). */
const BATCH_GAP = 64 * 1024;

interface Range {
  pack: string;
  offset: number;
  end: number;
}

function rangeOf(record: FileRecord): Range | undefined {
  const chunks = record.chunks;
  if (record.type !== 'file' || chunks.length === 0 || record.size > BATCH_FILE_BYTES) return undefined;
  const pack = chunks[0]!.pack;
  let offset = Number.POSITIVE_INFINITY;
  let end = 0;
  for (const c of chunks) {
    if (c.base || c.pack !== pack) return undefined;
    offset = Math.min(offset, c.packOffset);
    end = Math.max(end, c.packOffset + c.length);
  }
  return { pack, offset, end };
}

/** Records (with their chunk lists) gathered into one batch. */
export class FileBatch {
  readonly records: FileRecord[] = [];
  private range: Range | undefined;

  /** Add `record` when it fits (the first one: when it can be batched at all); false leaves the batch as it was. */
  add(record: FileRecord): boolean {
    const r = rangeOf(record);
    if (!r) return false;
    const b = this.range;
    if (b) {
      if (r.pack !== b.pack || this.records.length >= BATCH_FILES) return false;
      const offset = Math.min(b.offset, r.offset);
      const end = Math.max(b.end, r.end);
      if (end - offset > BATCH_RANGE_BYTES || end - offset - (b.end - b.offset) > r.end - r.offset + BATCH_GAP) return false;
      this.range = { pack: b.pack, offset, end };
    } else {
      this.range = r;
    }
    this.records.push(record);
    return true;
  }

  get size(): number {
    return this.records.length;
  }

  /** Pack, offset and length of the stored range that holds every blob of the batch. */
  get place(): { pack: string; offset: number; length: number } | undefined {
    return this.range && { pack: this.range.pack, offset: this.range.offset, length: this.range.end - this.range.offset };
  }
}

/** Where a file of a batch goes: an open descriptor, or a file the worker creates (open flags, mode) once its blobs passed their check. */
export type BatchTarget = number | { path: string; flags: number; mode: number };

/**
 * Write each file of `batch` (`targets[i]` for `batch.records[i]`, from offset 0): one read of
 * the batch's range, one worker task. Returns each file's descriptor (the caller's to close).
 * Errors name the file and `snapshot` (a damaged blob names its pack, offset and file). Files
 * before a damaged one may have been written (with verified bytes); the damaged one and those
 * after it are not (a file to create is not created; those created are closed).
 */
export async function writeBatchToFiles(core: RepoCore, batch: FileBatch, targets: BatchTarget[], snapshot: string): Promise<number[]> {
  const contexts = batch.records.map((r) => `file "${r.path}" of ${snapshot}`);
  const place = batch.place;
  if (!place) return [];
  const items: DecodeItem[] = [];
  const places: BlobPlace[] = [];
  const files: DecodeToFile['files'] = [];
  batch.records.forEach((record, i) => {
    let expected = 0;
    for (const c of record.chunks) {
      if (c.offset !== expected)
        throw new PgkeepError('DATA_INTEGRITY', `the chunk list of ${contexts[i]} has a gap at offset ${expected}`);
      expected += c.size;
      items.push({ at: c.packOffset - place.offset, length: c.length, rawLength: c.size, expect: c.sha256 });
      places.push({ pack: c.pack, offset: c.packOffset, length: c.length, context: contexts[i] });
    }
    if (expected !== record.size) {
      throw new PgkeepError('DATA_INTEGRITY', `the chunk list of ${contexts[i]} covers ${expected} bytes, the file has ${record.size}`);
    }
    const t = targets[i]!;
    files.push({ ...(typeof t === 'number' ? { fd: t } : { create: t }), position: 0, items: record.chunks.length });
  });
  const more = batch.size > 1 ? ` (and ${batch.size - 1} more files read with it)` : '';
  const range = { ...place, context: `${contexts[0]}${more}`, localPath: packFilePaths(core.driver)?.(place.pack) };
  const { opened } = await decodeRangeToFile(core.driver, core.pool(), range, items, places, files);
  let k = 0;
  return targets.map((t) => (typeof t === 'number' ? t : opened[k++]!));
}
