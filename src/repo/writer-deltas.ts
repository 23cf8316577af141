/**
 * The SnapshotWriter's delta step (format version 2): the changed chunks of a batch that have a
 * base chunk in an earlier snapshot are encoded by a blob worker as deltas on it (the base is
 * read back from its pack), or whole when the delta would exceed half the chunk or the base
 * cannot be read. Every chunk's reference is then built from what was stored.
 */
import { ZERO_CHUNK } from './zero-chunk.js';
import { PgkeepError } from '../errors.js';
import type { RepoCore } from './core.js';
import type { Codec } from './codec.js';
import { fetchPackRange } from './blob-reader.js';
import { DELTA_PENDING, type DeltaItem, type DeltaResult } from './delta-tasks.js';
import type { ChunkBase, ChunkRef, SnapshotStats } from './manifest.js';
import { BLOB_KIND_CHUNK, BLOB_KIND_DELTA } from './pack-format.js';
import type { Locator, PackWriter } from './pack-writer.js';
import type { WorkerPool } from './worker-pool.js';

/**
 * Of one file's changed chunks so far, how many were tried as deltas and how many were stored
 * whole anyway (more than half their pages changed). A file rewritten throughout (a bulk UPDATE)
 * stops trying: each try reads the base back from the repository for nothing.
 */
export interface DeltaOutcomes {
  tried: number;
  whole: number;
}

export function newDeltaOutcomes(): DeltaOutcomes {
  return { tried: 0, whole: 0 };
}

/** Whether the rest of the file is still worth trying as deltas: yes until 16 tries were mostly (3/4) in vain. */
export function deltasPay(o: DeltaOutcomes): boolean {
  return o.tried < 16 || o.whole * 4 < o.tried * 3;
}

export interface DeltaBatch {
  data: Buffer;
  out: Buffer;
  length: number;
  chunkSize: number;
  codec: Codec;
  /** Where the encodeBatch task's blobs end in `out`. */
  outAt: number;
}

/**
 * Encode the chunks the encodeBatch task left for deltas (size DELTA_PENDING) in one worker task. Returns
 * the buffers back (they travel to the worker) and each such chunk's result, by index, or the
 * worker's error (after the buffers, so the caller always gets them back).
 */
export async function encodeDeltaChunks(
  core: RepoCore,
  pool: WorkerPool,
  batch: DeltaBatch,
  sizes: readonly number[],
  bases: readonly (ChunkBase | undefined)[],
  outcomes: DeltaOutcomes,
): Promise<{ data: Buffer; out: Buffer; results: (DeltaResult | undefined)[]; error?: string }> {
  const wanted = sizes.flatMap((s, i) => (s === DELTA_PENDING ? [i] : []));
  if (wanted.length === 0) return { data: batch.data, out: batch.out, results: [] };
  const read = await readBases(
    core,
    wanted.map((i) => bases[i]!),
  );
  const all = Buffer.allocUnsafeSlow(read.reduce((n, b) => n + b.length, 0));
  let at = 0;
  const items: DeltaItem[] = wanted.map((index, k) => {
    read[k]!.copy(all, at);
    const item = { index, at, length: read[k]!.length, baseSha256: bases[index]!.sha256 };
    at += read[k]!.length;
    return item;
  });
  const { data, out } = batch;
  const reply = await pool.run(
    {
      op: 'encodeDeltas',
      data,
      out,
      outAt: batch.outAt,
      length: batch.length,
      chunkSize: batch.chunkSize,
      codec: batch.codec,
      bases: all,
      items,
    },
    [data.buffer as ArrayBuffer, out.buffer as ArrayBuffer, all.buffer as ArrayBuffer],
  );
  const back = {
    data: reply.input ? Buffer.from(reply.input.buffer, reply.input.byteOffset, reply.input.byteLength) : data,
    out: reply.blob ? Buffer.from(reply.blob.buffer, reply.blob.byteOffset, reply.blob.byteLength) : out,
  };
  if (reply.error || !reply.deltas) return { ...back, results: [], error: `blob worker failed: ${reply.error ?? 'no delta results'}` };
  const results: (DeltaResult | undefined)[] = [];
  for (let k = 0; k < wanted.length; k++) {
    results[wanted[k]!] = reply.deltas[k];
    outcomes.tried++;
    if (reply.deltas[k]!.kind !== BLOB_KIND_DELTA) outcomes.whole++;
  }
  return { ...back, results };
}

/** Bases closer than this in one pack are read with one range read (the gap is read and dropped)... */
const BASE_GAP = 64 * 1024;
/** ...up to this many bytes per read. */
const BASE_READ = 4 * 1024 * 1024;

/**
 * The stored bytes of each base, in the order given; neighbours in a pack (a file's chunks are
 * back to back) are read together. A base that cannot be read is an empty buffer: its chunk is
 * then stored whole, which is always correct.
 */
async function readBases(core: RepoCore, bases: readonly ChunkBase[]): Promise<Buffer[]> {
  const order = bases
    .map((_, k) => k)
    .sort((a, b) => {
      const x = bases[a]!;
      const y = bases[b]!;
      return x.pack < y.pack ? -1 : x.pack > y.pack ? 1 : x.packOffset - y.packOffset;
    });
  const out: Buffer[] = new Array(bases.length);
  const reads: Promise<void>[] = [];
  for (let i = 0; i < order.length; ) {
    const first = bases[order[i]!]!;
    let end = first.packOffset + first.length;
    let j = i + 1;
    for (; j < order.length; j++) {
      const b = bases[order[j]!]!;
      if (
        b.pack !== first.pack ||
        b.packOffset < end ||
        b.packOffset - end > BASE_GAP ||
        b.packOffset + b.length - first.packOffset > BASE_READ
      )
        break;
      end = b.packOffset + b.length;
    }
    const group = order.slice(i, j);
    const place = { pack: first.pack, offset: first.packOffset, length: end - first.packOffset };
    reads.push(
      fetchPackRange(core.driver, place).then(
        (raw) => {
          for (const k of group)
            out[k] = raw.subarray(bases[k]!.packOffset - first.packOffset, bases[k]!.packOffset - first.packOffset + bases[k]!.length);
        },
        () => {
          for (const k of group) out[k] = Buffer.alloc(0);
        },
      ),
    );
    i = j;
  }
  await Promise.all(reads);
  return out;
}

/** What the workers made of a batch: per chunk its blob size (-1 reused, DELTA_PENDING see `deltas`), hash, delta result, previous chunk and base. */
export interface StoredBatch {
  sizes: readonly number[];
  hashes: readonly string[];
  deltas: readonly (DeltaResult | undefined)[];
  befores: readonly (ChunkRef | undefined)[];
  bases: readonly (ChunkBase | undefined)[];
}

/**
 * Append a batch's new blobs to the packs, in chunk order (the pack writer keeps call order;
 * each blob is copied), and return every chunk's reference: reused ones are the previous
 * snapshot's. `out` holds encodeBatch's blobs up to `blobsEnd`, then encodeDeltas' blobs.
 */
export async function appendBatch(
  packs: PackWriter,
  counters: SnapshotStats,
  out: Buffer,
  at: { offset: number; length: number; chunkSize: number; blobsEnd: number },
  b: StoredBatch,
  /** Store a whole new chunk (its encoded blob; none for an all-zero chunk, encoded when it must be stored). */
  storeFull: (c: { offset: number; size: number; sha256: string; blob: Uint8Array | undefined }) => Promise<ChunkRef>,
): Promise<ChunkRef[]> {
  const refs: (ChunkRef | Promise<ChunkRef>)[] = [];
  let pos = 0;
  let deltaPos = at.blobsEnd;
  for (let i = 0; i * at.chunkSize < at.length; i++) {
    const size = Math.min(at.chunkSize, at.length - i * at.chunkSize);
    const offset = at.offset + i * at.chunkSize;
    const sha256 = b.hashes[i]!;
    const d = b.deltas[i];
    if (b.sizes[i] === -1) {
      counters.reusedBytes += size;
      counters.reusedChunks++;
      refs.push({ ...b.befores[i]!, offset });
      continue;
    }
    if (d) {
      counters.newChunks++;
      const blob = out.subarray(deltaPos, deltaPos + d.size);
      deltaPos += d.size;
      const base = d.kind === BLOB_KIND_DELTA ? b.bases[i] : undefined;
      if (base) counters.deltaChunks = (counters.deltaChunks ?? 0) + 1;
      const entry = { rawLength: d.rawLength, kind: d.kind, sha256: d.sha256 };
      refs.push(packs.append(blob, entry).then((loc) => chunkRef({ offset, size, sha256 }, loc, base)));
      continue;
    }
    const blobSize = b.sizes[i]!;
    if (blobSize === DELTA_PENDING) throw new PgkeepError('INTERNAL', `chunk at offset ${offset} was left for a delta that was not made`);
    // an all-zero chunk is encoded where it must be stored, once: the worker only recognised it
    const blob = blobSize === ZERO_CHUNK ? undefined : out.subarray(pos, pos + blobSize);
    if (blob) pos += blobSize;
    refs.push(storeFull({ offset, size, sha256, blob }));
  }
  return Promise.all(refs);
}

function chunkRef(c: { offset: number; size: number; sha256: string }, loc: Locator, base?: ChunkBase): ChunkRef {
  const ref: ChunkRef = { ...c, pack: loc.pack, packOffset: loc.offset, length: loc.length };
  if (base) ref.base = base;
  return ref;
}
