/**
 * Where a repack moved blobs, compactly: the copies are made pack by pack in offset order, so
 * the old places arrive sorted and are looked up by binary search (about 40 bytes per moved
 * blob, no object per blob). Manifests are rewritten through it.
 */
import { PgkeepError } from '../errors.js';
import type { ChunkRef } from './manifest.js';
import type { Locator } from './pack-writer.js';

export class MovedBlobs {
  private readonly oldPacks = new Map<string, number>();
  private readonly newPackIds: string[] = [];
  private readonly newPacks = new Map<string, number>();
  private readonly oldPack: number[] = [];
  private readonly oldOffset: number[] = [];
  private readonly newPack: number[] = [];
  private readonly newOffset: number[] = [];
  private readonly newLength: number[] = [];

  get size(): number {
    return this.oldPack.length;
  }

  /** The blob at `offset` of `pack` is now at `to` (calls in pack-by-pack, offset order). */
  add(pack: string, offset: number, to: Locator): void {
    let p = this.oldPacks.get(pack);
    if (p === undefined) this.oldPacks.set(pack, (p = this.oldPacks.size));
    const last = this.size - 1;
    if (last >= 0 && (p < this.oldPack[last]! || (p === this.oldPack[last] && offset <= this.oldOffset[last]!))) {
      throw new PgkeepError('INTERNAL', 'blobs were moved out of order');
    }
    let n = this.newPacks.get(to.pack);
    if (n === undefined) this.newPacks.set(to.pack, (n = this.newPackIds.push(to.pack) - 1));
    this.oldPack.push(p);
    this.oldOffset.push(offset);
    this.newPack.push(n);
    this.newOffset.push(to.offset);
    this.newLength.push(to.length);
  }

  /** Where the blob at `offset` of `pack` is now, if it was moved. */
  get(pack: string, offset: number): Locator | undefined {
    const p = this.oldPacks.get(pack);
    if (p === undefined) return undefined;
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const d = this.oldPack[mid]! - p || this.oldOffset[mid]! - offset;
      if (d === 0) return { pack: this.newPackIds[this.newPack[mid]!]!, offset: this.newOffset[mid]!, length: this.newLength[mid]! };
      if (d < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** A chunk reference (and its base) after the move. */
  chunk(c: ChunkRef): ChunkRef {
    const to = this.get(c.pack, c.packOffset);
    const out = to ? { ...c, pack: to.pack, packOffset: to.offset, length: to.length } : c;
    const base = c.base;
    const b = base && this.get(base.pack, base.packOffset);
    return base && b ? { ...out, base: { ...base, pack: b.pack, packOffset: b.offset, length: b.length } } : out;
  }
}
