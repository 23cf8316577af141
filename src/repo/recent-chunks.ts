/**
 * Chunks this writer stored recently, by SHA-256: a chunk equal to one of them takes its
 * locator instead of being stored again (the holes of sparse files, repeated pages). Bounded
 * (least recently used out), so memory does not grow with the snapshot; a chunk that was pushed
 * out is simply stored again. Several chunk records may name one blob (the format allows it).
 */
import { encodeBlob } from './blob.js';
import type { Codec } from './codec.js';
import type { ChunkRef, SnapshotStats } from './manifest.js';
import { BLOB_KIND_CHUNK } from './pack-format.js';
import type { Locator, PackWriter } from './pack-writer.js';

const CAPACITY = 1024;

export class RecentChunks {
  private readonly map = new Map<string, Promise<Locator>>();

  /** The locator of an identical chunk, or store this one with `append` and remember it. */
  locate(sha256: string, append: () => Promise<Locator>): { reused: boolean; locator: Promise<Locator> } {
    const known = this.map.get(sha256);
    if (known) {
      this.map.delete(sha256);
      this.map.set(sha256, known);
      return { reused: true, locator: known };
    }
    const locator = append();
    locator.catch(() => this.map.delete(sha256));
    this.map.set(sha256, locator);
    if (this.map.size > CAPACITY) this.map.delete(this.map.keys().next().value!);
    return { reused: false, locator };
  }
}

/**
 * Store one new chunk (its encoded `blob`, or none for an all-zero chunk, encoded here when it
 * must be stored), unless `recent` knows an identical one; counted as new or reused.
 */
export function storeChunk(
  recent: RecentChunks,
  packs: PackWriter,
  c: { offset: number; size: number; sha256: string; blob: Uint8Array | undefined },
  how: { codec: Codec; core: { key: Buffer | undefined } },
  counters: SnapshotStats,
): Promise<ChunkRef> {
  const { offset, size, sha256 } = c;
  const { reused, locator } = recent.locate(sha256, () =>
    packs.append(c.blob ?? encodeBlob(how.codec, how.core.key, Buffer.alloc(size)), { rawLength: size, kind: BLOB_KIND_CHUNK, sha256 }),
  );
  if (reused) {
    counters.reusedChunks++;
    counters.reusedBytes += size;
  } else counters.newChunks++;
  return locator.then((loc) => ({ offset, size, sha256, pack: loc.pack, packOffset: loc.offset, length: loc.length }));
}
