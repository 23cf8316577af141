/**
 * The delta work of a blob worker (run on its thread, called from blob-worker.ts): encode the
 * changed chunks of a batch as deltas on their base chunks (or whole when a delta does not pay),
 * and rebuild a delta chunk from its base and delta blobs, verified.
 */
import { createHash } from 'node:crypto';
import { blobBound, decodeBlobInto, encodeBlobInto } from './blob.js';
import { compressBound } from './codec.js';
import { applyDelta, DELTA_HEADER_BYTES, DELTA_UNIT, encodeDeltaInto } from './delta-codec.js';
import type { DecodeDelta, DeltaResult, EncodeDeltas } from './delta-tasks.js';
import { BLOB_KIND_CHUNK, BLOB_KIND_DELTA } from './pack-format.js';

let baseScratch: Buffer = Buffer.alloc(0);
let deltaScratch: Buffer = Buffer.alloc(0);
let packScratch: Buffer = Buffer.alloc(0);

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

/** Rebuild a delta chunk into task.out; returns what is wrong, or undefined when it verified. */
export function decodeDelta(key: Buffer | undefined, task: DecodeDelta): string | undefined {
  const out = task.out.subarray(0, task.rawLength);
  baseScratch = grow(baseScratch, task.rawLength);
  const base = baseScratch.subarray(0, task.rawLength);
  try {
    if (decodeBlobInto(key, task.data.subarray(0, task.baseLength), base) !== task.rawLength) {
      return `its base chunk does not have ${task.rawLength} bytes`;
    }
  } catch (e) {
    return `its base chunk cannot be read: ${(e as Error).message}`;
  }
  if (sha256hex(base) !== task.baseSha256) return 'SHA-256 of its base chunk does not match';
  deltaScratch = grow(deltaScratch, deltaBound(task.rawLength));
  let n: number;
  try {
    n = decodeBlobInto(key, task.data.subarray(task.baseLength), deltaScratch.subarray(0, deltaBound(task.rawLength)));
    applyDelta(base, deltaScratch.subarray(0, n), out);
  } catch (e) {
    return `delta: ${(e as Error).message}`;
  }
  return sha256hex(out) === task.expect ? undefined : 'SHA-256 of the rebuilt chunk does not match';
}
