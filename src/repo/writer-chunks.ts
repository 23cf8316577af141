/** The SnapshotWriter's arithmetic: batch sizes and memory, and which chunks of the previous record a batch or a patch reuses. */
import { PgkeepError } from '../errors.js';
import type { Content } from './chunker.js';
import type { ChunkBase, ChunkRef, FileRecord, SnapshotStats } from './manifest.js';
import { deltaEligible } from './delta-codec.js';

/** A changed, chunk-aligned range of a patched file, with its content (read to the range's end). */
export interface PatchRun {
  offset: number;
  length: number;
  content: Content;
}

export function emptyStats(): SnapshotStats {
  return { files: 0, logicalBytes: 0, storedBytes: 0, reusedBytes: 0, newChunks: 0, reusedChunks: 0, reusedFiles: 0, deltaChunks: 0 };
}

/** Content goes to the workers in batches of whole chunks of about this size (fewer, larger tasks). */
const BATCH_BYTES = 1024 * 1024;
/** Batches in flight (read, being encoded, waiting to be appended) per job, for batches of BATCH_BYTES. */
const BATCHES_PER_JOB = 3;

/** Bytes per batch: a whole number of chunks, at least one. */
export function batchSizeFor(chunkSize: number): number {
  return Math.max(1, Math.floor(BATCH_BYTES / chunkSize)) * chunkSize;
}

/** The batch size and how many batches may be in flight: bounded memory whatever the chunk size (fewer batches when they are larger). */
export function writerMemory(jobs: number, chunkSize: number): { batchSize: number; inflight: number } {
  const batchSize = batchSizeFor(chunkSize);
  const inflight = Math.max(jobs + 1, Math.min(jobs * BATCHES_PER_JOB, Math.floor((jobs * BATCHES_PER_JOB * BATCH_BYTES) / batchSize)));
  return { batchSize, inflight };
}

/**
 * For a batch at `offset` of `length` bytes: the previous record's chunk at each position, and its
 * hash where it covers exactly the same bytes (a chunk whose content hashes to it is reused).
 * With `deltas`, `bases[i]` is the full chunk a changed chunk i may be stored as a delta on: the
 * previous chunk itself, or when that is a delta, its base (a delta never rests on a delta).
 */
export function previousChunks(
  prev: FileRecord | undefined,
  offset: number,
  length: number,
  chunkSize: number,
  deltas = false,
): { befores: (ChunkRef | undefined)[]; expects: (string | undefined)[]; bases: (ChunkBase | undefined)[] } {
  const first = offset / chunkSize;
  const befores: (ChunkRef | undefined)[] = [];
  const expects: (string | undefined)[] = [];
  const bases: (ChunkBase | undefined)[] = [];
  for (let i = 0; i * chunkSize < length; i++) {
    const before = prev?.chunks[first + i];
    const size = Math.min(chunkSize, length - i * chunkSize);
    const same = before !== undefined && before.offset === offset + i * chunkSize && before.size === size;
    befores.push(before);
    expects.push(same ? before.sha256 : undefined);
    bases.push(
      same && deltas && deltaEligible(size)
        ? (before.base ?? { pack: before.pack, packOffset: before.packOffset, length: before.length, sha256: before.sha256 })
        : undefined,
    );
  }
  return { befores, expects, bases };
}

/** A patched file: chunks [from, upTo) (byte offsets, chunk-aligned, below `count` chunks) are the previous record's, counted as reused. */
export function keepPreviousChunks(
  previous: FileRecord,
  chunks: ChunkRef[],
  r: { from: number; upTo: number; count: number; chunkSize: number },
  counters: SnapshotStats,
): void {
  for (let i = Math.ceil(r.from / r.chunkSize); i < r.upTo / r.chunkSize && i < r.count; i++) {
    const c = previous.chunks[i];
    if (!c) throw new PgkeepError('INTERNAL', `cannot patch "${previous.path}": chunk ${i} is neither read nor in the previous record`);
    chunks[i] = { ...c };
    counters.reusedChunks++;
    counters.reusedBytes += c.size;
  }
}

/** A whole file of the previous snapshot kept without reading it: counted as reused. */
export function countReusedFile(counters: SnapshotStats, kept: FileRecord): void {
  counters.reusedFiles++;
  counters.reusedChunks += kept.chunks.length;
  counters.reusedBytes += kept.size;
}
