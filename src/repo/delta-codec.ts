/**
 * Delta chunks (repository format version 2), pure byte work, no I/O: a changed chunk stored as
 * the units (8 KiB, one PostgreSQL page) that differ from a base chunk, a full chunk of an
 * earlier snapshot. Plaintext of a delta blob:
 *
 *   "PKD1" (4) | unit u32 BE | size u32 BE | count u32 BE | bitmap | changed units
 *
 * `size` is the chunk's size (equal to the base's), the bitmap has ceil(ceil(size/unit)/8)
 * bytes (bit i, least significant bit first in byte i>>3, set when unit i changed; bits past
 * the last unit are 0), `count` is the number of bits set, and the changed units follow in
 * order, each `unit` bytes (the last unit of the chunk may be shorter). Nothing else follows.
 */

export const DELTA_MAGIC = Buffer.from('PKD1', 'latin1');
export const DELTA_HEADER_BYTES = 16;
/** Bytes per delta unit that the writer uses: one PostgreSQL page of the default block size. */
export const DELTA_UNIT = 8192;

function unitsOf(size: number, unit: number): number {
  return Math.ceil(size / unit);
}

/** Whether a chunk of `size` bytes may be stored as a delta at all (at least two units). */
export function deltaEligible(size: number, unit = DELTA_UNIT): boolean {
  return size >= 2 * unit;
}

/**
 * The delta of `data` on `base` (same length), written into `out`, or -1 when it would be
 * larger than `limit` bytes (then the chunk is stored whole). Returns the delta's length.
 */
export function encodeDeltaInto(base: Uint8Array, data: Uint8Array, out: Buffer, limit: number, unit = DELTA_UNIT): number {
  if (base.length !== data.length) throw new Error(`delta base has ${base.length} bytes, the chunk ${data.length}`);
  const n = unitsOf(data.length, unit);
  const bitmapBytes = Math.ceil(n / 8);
  let pos = DELTA_HEADER_BYTES + bitmapBytes;
  if (pos > limit || pos > out.length) return -1;
  out.fill(0, DELTA_HEADER_BYTES, pos);
  let count = 0;
  const b = Buffer.from(base.buffer, base.byteOffset, base.byteLength);
  const d = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < n; i++) {
    const from = i * unit;
    const to = Math.min(d.length, from + unit);
    if (b.compare(d, from, to, from, to) === 0) continue;
    if (pos + (to - from) > limit || pos + (to - from) > out.length) return -1;
    out[DELTA_HEADER_BYTES + (i >> 3)]! |= 1 << (i & 7);
    d.copy(out, pos, from, to);
    pos += to - from;
    count++;
  }
  DELTA_MAGIC.copy(out, 0);
  out.writeUInt32BE(unit, 4);
  out.writeUInt32BE(data.length, 8);
  out.writeUInt32BE(count, 12);
  return pos;
}

/** The delta's header, checked against the whole delta's length; throws what is wrong. */
export function readDeltaHeader(delta: Uint8Array): { unit: number; size: number; count: number; bitmapBytes: number } {
  if (delta.length < DELTA_HEADER_BYTES) throw new Error(`delta is truncated (${delta.length} bytes, header needs ${DELTA_HEADER_BYTES})`);
  const b = Buffer.from(delta.buffer, delta.byteOffset, delta.byteLength);
  if (!DELTA_MAGIC.equals(b.subarray(0, 4))) throw new Error('delta does not start with "PKD1"');
  const unit = b.readUInt32BE(4);
  const size = b.readUInt32BE(8);
  const count = b.readUInt32BE(12);
  if (unit === 0) throw new Error('delta unit is 0');
  const n = unitsOf(size, unit);
  const bitmapBytes = Math.ceil(n / 8);
  if (delta.length < DELTA_HEADER_BYTES + bitmapBytes) throw new Error('delta is truncated in its bitmap');
  let set = 0;
  let bytes = 0;
  for (let i = 0; i < bitmapBytes * 8; i++) {
    if (!(b[DELTA_HEADER_BYTES + (i >> 3)]! & (1 << (i & 7)))) continue;
    if (i >= n) throw new Error(`delta bitmap marks unit ${i}, the chunk has ${n}`);
    set++;
    bytes += Math.min(unit, size - i * unit);
  }
  if (set !== count) throw new Error(`delta header says ${count} units changed, its bitmap ${set}`);
  const expected = DELTA_HEADER_BYTES + bitmapBytes + bytes;
  if (delta.length !== expected) throw new Error(`delta has ${delta.length} bytes, ${expected} expected`);
  return { unit, size, count, bitmapBytes };
}

/** Write the chunk that `delta` makes of `base` into `out` (base.length bytes); throws on a malformed delta. */
export function applyDelta(base: Uint8Array, delta: Uint8Array, out: Uint8Array): void {
  const { unit, size, bitmapBytes } = readDeltaHeader(delta);
  if (size !== base.length) throw new Error(`delta is for a chunk of ${size} bytes, its base has ${base.length}`);
  if (out.length !== size) throw new Error(`delta output has room for ${out.length} bytes, ${size} needed`);
  if (out !== base) out.set(base);
  let pos = DELTA_HEADER_BYTES + bitmapBytes;
  for (let i = 0; i < unitsOf(size, unit); i++) {
    if (!(delta[DELTA_HEADER_BYTES + (i >> 3)]! & (1 << (i & 7)))) continue;
    const len = Math.min(unit, size - i * unit);
    out.set(delta.subarray(pos, pos + len), i * unit);
    pos += len;
  }
}
