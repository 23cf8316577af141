/**
 * The delta work of a blob worker (run on its thread, called from blob-worker.ts): encode the
 * changed chunks of a batch as deltas on their base chunks (or whole when a delta does not pay),
 * and rebuild a delta chunk from its base and delta blobs, verified.
 */
import { createHash } from 'node:crypto';
import { writeSync } from 'node:fs';
import { blobBound, decodeBlobInto, encodeBlobInto } from './blob.js';
import { compressBound } from './codec.js';
import { applyDelta, DELTA_HEADER_BYTES, DELTA_UNIT, encodeDeltaInto } from './delta-codec.js';
import type { DecodeDeltas, DeltaChunkItem, DeltaResult, EncodeDeltas } from './delta-tasks.js';
import { BLOB_KIND_CHUNK, BLOB_KIND_DELTA } from './pack-format.js';

let baseScratch: Buffer = Buffer.alloc(0);
let deltaScratch: Buffer = Buffer.alloc(0);
let packScratch: Buffer = Buffer.alloc(0);
let plainScratch: Buffer = Buffer.alloc(0);

function grow(b: Buffer, n: number): Buffer {
  return b.length >= n ? b : Buffer.allocUnsafeSlow(n);
}

const sha256hex = (u: Uint8Array) => createHash('sha256').update(u).digest('hex');
const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** Largest delta plaintext for a chunk of `size` bytes (every unit changed). */
export function deltaBound(size: number): number {
  return DELTA_HEADER_BYTES + Math.ceil(Math.ceil(size / DELTA_UNIT) / 8) + size;
}

/** The base's plaintext (verified), or undefined when it cannot be used (then the chunk is stored whole). */
function openBase(key: Buffer | undefined, task: EncodeDeltas, at: number, length: number, sha256: string, size: number) {
  if (length === 0) return undefined;
  baseScratch = grow(baseScratch, size);
  const base = baseScratch.subarray(0, size);
  try {
    if (decodeBlobInto(key, task.bases.subarray(at, at + length), base) !== size) return undefined;
  } catch {
    return undefined;
  }
  return sha256hex(base) === sha256 ? base : undefined;
}

export function encodeDeltas(key: Buffer | undefined, task: EncodeDeltas): DeltaResult[] {
  const data = task.data.subarray(0, task.length);
  const out = asBuffer(task.out);
  packScratch = grow(packScratch, compressBound(task.chunkSize + DELTA_HEADER_BYTES + 64));
  deltaScratch = grow(deltaScratch, deltaBound(task.chunkSize));
  let pos = task.outAt;
  const results: DeltaResult[] = [];
  for (const it of task.items) {
    const chunk = data.subarray(it.index * task.chunkSize, Math.min(data.length, (it.index + 1) * task.chunkSize));
    const base = openBase(key, task, it.at, it.length, it.baseSha256, chunk.length);
    const n = base ? encodeDeltaInto(base, chunk, deltaScratch, Math.floor(chunk.length / 2)) : -1;
    const plain = n >= 0 ? deltaScratch.subarray(0, n) : chunk;
    const size = encodeBlobInto(task.codec, key, plain, out.subarray(pos, pos + blobBound(plain.length)), packScratch);
    results.push({ size, kind: n >= 0 ? BLOB_KIND_DELTA : BLOB_KIND_CHUNK, rawLength: plain.length, sha256: sha256hex(plain) });
    pos += size;
  }
  return results;
}

/** Rebuild one delta chunk into `out`; returns what is wrong (saying whether the base is), or undefined when it verified. */
function rebuild(
  key: Buffer | undefined,
  data: Uint8Array,
  it: DeltaChunkItem,
  out: Uint8Array,
): { error: string; onBase: boolean } | undefined {
  baseScratch = grow(baseScratch, it.rawLength);
  const base = baseScratch.subarray(0, it.rawLength);
  try {
    if (decodeBlobInto(key, data.subarray(it.baseAt, it.baseAt + it.baseLength), base) !== it.rawLength) {
      return { error: `its base chunk does not have ${it.rawLength} bytes`, onBase: true };
    }
  } catch (e) {
    return { error: `its base chunk cannot be read: ${(e as Error).message}`, onBase: true };
  }
  // The rebuilt chunk's SHA-256 covers every byte; the base's own is computed only to name the
  // damaged blob when that fails (one hash per chunk on the way that succeeds).
  deltaScratch = grow(deltaScratch, deltaBound(it.rawLength));
  try {
    const n = decodeBlobInto(
      key,
      data.subarray(it.deltaAt, it.deltaAt + it.deltaLength),
      deltaScratch.subarray(0, deltaBound(it.rawLength)),
    );
    applyDelta(base, deltaScratch.subarray(0, n), out);
  } catch (e) {
    return { error: `delta: ${(e as Error).message}`, onBase: false };
  }
  if (sha256hex(out) === it.expect) return undefined;
  if (sha256hex(base) !== it.baseSha256) return { error: 'SHA-256 of its base chunk does not match', onBase: true };
  return { error: 'SHA-256 of the rebuilt chunk does not match', onBase: false };
}

export interface DecodeDeltasOutcome {
  size: number;
  error?: string;
  /** The item that failed, and whether its base blob is the damaged one. */
  failed?: number;
  onBase?: boolean;
  /** Writing failed (errno code), not the data. */
  ioCode?: string;
}

/** Rebuild a run of delta chunks, verified, into task.out or (restore) task.fd at task.position. */
export function decodeDeltas(key: Buffer | undefined, task: DecodeDeltas): DecodeDeltasOutcome {
  const total = task.items.reduce((n, it) => n + it.rawLength, 0);
  if (task.fd === undefined && (!task.out || task.out.length < total)) return { size: 0, error: `no room for ${total} bytes` };
  plainScratch = task.fd === undefined ? plainScratch : grow(plainScratch, total);
  const plain = task.fd === undefined ? task.out! : plainScratch;
  let pos = 0;
  for (let i = 0; i < task.items.length; i++) {
    const it = task.items[i]!;
    const bad = rebuild(key, task.data, it, plain.subarray(pos, pos + it.rawLength));
    if (bad) return { size: pos, error: bad.error, failed: i, onBase: bad.onBase };
    pos += it.rawLength;
  }
  if (task.fd !== undefined) {
    try {
      let done = 0;
      while (done < pos) done += writeSync(task.fd, plain, done, pos - done, task.position! + done);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return { size: 0, error: err.message, ioCode: err.code ?? 'EIO' };
    }
  }
  return { size: pos };
}
