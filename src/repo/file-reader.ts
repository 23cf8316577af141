/**
 * Reading a stored file back: adjacent blobs of one pack are fetched with one range read, decoded
 * and verified in the worker pool, and either emitted in order as a stream with a bounded
 * read-ahead, or written by the workers straight into an open file (restore).
 */
import { Readable } from 'node:stream';
import { PgkeepError } from '../errors.js';
import type { RepoCore } from './core.js';
import type { ChunkRef, FileRecord } from './manifest.js';
import { decodeInPool, decodeManyInPool, decodeRangeToFile, fetchPackRange } from './blob-reader.js';
import { extendsDeltaRun, readDeltaChunk, readDeltaRun, writeDeltaRun } from './delta-reader.js';
import { packKey } from './pack-format.js';
import type { StorageDriver } from './storage/driver.js';
import { PosixDriver } from './storage/posix/index.js';

/** Adjacent blobs are read and decoded together up to this many stored bytes... */
const GROUP_BYTES = 1024 * 1024;
/** ...and this many plaintext bytes (what a worker holds at once for one group). */
const GROUP_RAW_BYTES = 4 * 1024 * 1024;

export interface ReadFileOptions {
  signal?: AbortSignal;
  /** Describes the file in error messages (e.g. 'file "x" of snapshot main/<id>'). */
  context?: string;
}

interface Group {
  pack: string;
  offset: number;
  length: number;
  rawLength: number;
  chunks: ChunkRef[];
}

function groups(chunks: ChunkRef[]): Group[] {
  const out: Group[] = [];
  let g: Group | undefined;
  for (const c of chunks) {
    // a chunk whose blob the group already holds (a repeated chunk, e.g. the zeros of a sparse file) joins it too
    const inside = g !== undefined && g.pack === c.pack && c.packOffset >= g.offset && c.packOffset + c.length <= g.offset + g.length;
    if (
      g &&
      // delta chunks group with delta chunks whose blobs and bases are adjacent (delta-reader.ts)
      (c.base || g.chunks[0]!.base ? extendsDeltaRun(g.chunks[g.chunks.length - 1]!, c) : true) &&
      g.pack === c.pack &&
      (inside || (g.offset + g.length === c.packOffset && g.length + c.length <= GROUP_BYTES)) &&
      g.rawLength + c.size <= GROUP_RAW_BYTES
    ) {
      if (!inside) g.length += c.length;
      g.rawLength += c.size;
      g.chunks.push(c);
    } else {
      g = { pack: c.pack, offset: c.packOffset, length: c.length, rawLength: c.size, chunks: [c] };
      out.push(g);
    }
  }
  return out;
}

/**
 * Decoded, verified content of a file in order (one buffer per group of adjacent chunks). Groups
 * are decoded in parallel by the worker pool with a bounded read-ahead.
 */
export async function* readChunksData(core: RepoCore, record: FileRecord, opts: ReadFileOptions = {}): AsyncGenerator<Buffer> {
  const context = opts.context ?? `file "${record.path}"`;
  const window = core.jobs * 2 + 1;
  const pending: Promise<Buffer>[] = [];
  let expectedOffset = 0;
  for (const g of groups(record.chunks)) {
    opts.signal?.throwIfAborted();
    const items = g.chunks.map((c) => {
      if (c.offset !== expectedOffset)
        throw new PgkeepError('DATA_INTEGRITY', `the chunk list of ${context} has a gap at offset ${expectedOffset}`);
      expectedOffset += c.size;
      return { at: c.packOffset - g.offset, length: c.length, rawLength: c.size, expect: c.sha256 };
    });
    const places = g.chunks.map((c) => ({ pack: c.pack, offset: c.packOffset, length: c.length, context }));
    const p = g.chunks[0]!.base
      ? readDeltaRun(core, g.chunks, context)
      : fetchPackRange(core.driver, { pack: g.pack, offset: g.offset, length: g.length, context }).then((raw) =>
          decodeManyInPool(core.pool(), raw, items, places),
        );
    p.catch(() => undefined);
    pending.push(p);
    while (pending.length >= window) yield await pending.shift()!;
  }
  while (pending.length > 0) {
    opts.signal?.throwIfAborted();
    yield await pending.shift()!;
  }
  if (expectedOffset !== record.size) {
    throw new PgkeepError('DATA_INTEGRITY', `the chunk list of ${context} covers ${expectedOffset} bytes, the file has ${record.size}`);
  }
}

export interface WriteFileOptions extends ReadFileOptions {
  /** Bytes of the file written so far (called as groups of chunks land). */
  onBytes?: (n: number) => void;
}

/**
 * Write a stored file's content into the open file descriptor `fd` (at the offsets it has in the
 * file): each group of adjacent blobs is read here (from a posix repository through a pack file
 * held open, else through the driver), then decoded, verified and written with a positional
 * write by a blob worker, so the plaintext never comes back to this thread and at
 * most a few groups are in flight. Resolves to the bytes written. On any failure it still waits
 * for the writes in flight before rejecting, so the caller may close `fd` as soon as it returns.
 */
export async function writeFileToFd(core: RepoCore, record: FileRecord, fd: number, opts: WriteFileOptions = {}): Promise<number> {
  const context = opts.context ?? `file "${record.path}"`;
  const window = core.jobs * 2 + 1;
  const inflight = new Set<Promise<void>>();
  const localPath = packFilePaths(core.driver);
  let failure: unknown;
  let written = 0;
  let expectedOffset = 0;
  try {
    for (const g of groups(record.chunks)) {
      if (failure) break;
      opts.signal?.throwIfAborted();
      const position = expectedOffset;
      const items = g.chunks.map((c) => {
        if (c.offset !== expectedOffset)
          throw new PgkeepError('DATA_INTEGRITY', `the chunk list of ${context} has a gap at offset ${expectedOffset}`);
        expectedOffset += c.size;
        return { at: c.packOffset - g.offset, length: c.length, rawLength: c.size, expect: c.sha256 };
      });
      const places = g.chunks.map((c) => ({ pack: c.pack, offset: c.packOffset, length: c.length, context }));
      const range = { pack: g.pack, offset: g.offset, length: g.length, context, localPath: localPath?.(g.pack) };
      const p: Promise<void> = (
        g.chunks[0]!.base
          ? writeDeltaRun(core, g.chunks, fd, position, context)
          : decodeRangeToFile(core.driver, core.pool(), range, items, places, [{ fd, position, items: items.length }]).then(
              (r) => r.written,
            )
      )
        .then(
          (n) => {
            written += n;
            opts.onBytes?.(n);
          },
          (e: unknown) => {
            failure ??= e;
          },
        )
        .finally(() => inflight.delete(p));
      inflight.add(p);
      while (inflight.size >= window) await Promise.race(inflight);
    }
    if (expectedOffset !== record.size && !failure) {
      throw new PgkeepError('DATA_INTEGRITY', `the chunk list of ${context} covers ${expectedOffset} bytes, the file has ${record.size}`);
    }
  } finally {
    await Promise.all(inflight); // no worker may still write into fd once we return
  }
  if (failure) throw failure;
  opts.signal?.throwIfAborted();
  return written;
}

/** Where a pack's file is, when the repository is a directory the blob workers can read themselves. */
export function packFilePaths(driver: StorageDriver): ((pack: string) => string) | undefined {
  if (!(driver instanceof PosixDriver)) return undefined;
  return (pack) => driver.pathOf(packKey(pack));
}

export function readFileStream(core: RepoCore, record: FileRecord, opts: ReadFileOptions = {}): Readable {
  return Readable.from(readChunksData(core, record, opts), { objectMode: false, highWaterMark: core.chunkSize * 2 });
}

/** Read one chunk (delta restore fetches only the chunks that differ). */
export async function readChunk(core: RepoCore, chunk: ChunkRef, context?: string): Promise<Buffer> {
  if (chunk.base) return readDeltaChunk(core, chunk, context);
  const place = { pack: chunk.pack, offset: chunk.packOffset, length: chunk.length, context };
  const raw = await fetchPackRange(core.driver, place);
  return decodeInPool(core.pool(), raw, chunk.sha256, chunk.size, place);
}
