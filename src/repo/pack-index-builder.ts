/**
 * The index of the pack being filled, kept in its binary form (49 bytes an entry) as blobs are
 * appended, in one buffer reused from pack to pack. A pack of small blobs (distinct but very
 * compressible chunks: ~130k blobs of ~250 bytes in 32 MiB) would otherwise hold as many entry
 * objects with a hex hash each (~200 bytes apiece, plus the garbage they leave), several times
 * the index's size, on the JavaScript heap.
 */
import { PACK_INDEX_ENTRY_BYTES, writePackIndexEntry, type PackIndexEntry } from './pack-format.js';

const INITIAL_BYTES = 64 * 1024;

export class PackIndexBuilder {
  private buf = Buffer.alloc(INITIAL_BYTES);
  private count = 0;

  /** Entries appended since the last reset. */
  get length(): number {
    return this.count;
  }

  add(e: PackIndexEntry): void {
    const at = 4 + this.count * PACK_INDEX_ENTRY_BYTES;
    if (at + PACK_INDEX_ENTRY_BYTES > this.buf.length) {
      const grown = Buffer.alloc(this.buf.length * 2);
      this.buf.copy(grown, 0, 0, at);
      this.buf = grown;
    }
    writePackIndexEntry(this.buf, at, e);
    this.count++;
  }

  /** The index as encodePackIndex writes it; a view valid until the next add or reset. */
  bytes(): Buffer {
    this.buf.writeUInt32BE(this.count, 0);
    return this.buf.subarray(0, 4 + this.count * PACK_INDEX_ENTRY_BYTES);
  }

  /** Start the next pack's index (the buffer is kept). */
  reset(): void {
    this.count = 0;
  }
}
