/**
 * All-zero chunks (holes of sparse files, pre-extended relation files): recognised with one
 * comparison instead of hashing and compressing them. The SHA-256 of n zero bytes is a constant,
 * computed once per size; the bytes are still read and compared, so nothing is assumed.
 */
import { createHash } from 'node:crypto';

/** An encodeBatch size: the chunk is all zeros and was not encoded (the writer stores it once). */
export const ZERO_CHUNK = -2;

let zeros = Buffer.alloc(0);
const hashes = new Map<number, string>();

export function isZeroChunk(chunk: Uint8Array): boolean {
  if (zeros.length < chunk.length) zeros = Buffer.alloc(chunk.length);
  return Buffer.compare(chunk, zeros.subarray(0, chunk.length)) === 0;
}

/** SHA-256 (hex) of `n` zero bytes. */
export function zeroChunkHash(n: number): string {
  let h = hashes.get(n);
  if (h === undefined) {
    h = createHash('sha256').update(Buffer.alloc(n)).digest('hex');
    hashes.set(n, h);
  }
  return h;
}
