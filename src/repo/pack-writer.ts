/**
 * Appends blobs to packs and publishes each pack when it reaches its target size or when the
 * writer finishes. A pack (blobs, then its index and footer) is assembled in a reusable in-memory
 * arena (target 32 MiB) and
 * published with one atomic put while the next one fills; one pack at a time is published, so
 * memory stays at about two pack sizes. One writer owns its packs: concurrent writers never
 * share one.
 */
import { randomBytes } from 'node:crypto';
import type { StorageDriver } from './storage/driver.js';
import type { Codec } from './codec.js';
import { encodeObject } from './blob.js';
import { encodeFooter, PACK_INDEX_ENTRY_BYTES, PACK_MAGIC, packKey, type PackIndexEntry } from './pack-format.js';
import { PackIndexBuilder } from './pack-index-builder.js';

export interface Locator {
  pack: string;
  offset: number;
  length: number;
}

interface OpenPack {
  id: string;
  arena: Buffer;
  pos: number;
}

const MAX_PUBLISHING = 1;
const ARENA_SLACK = 1024 * 1024;

/**
 * Room the index of `entries` blobs and the footer take after the blobs, at most: the binary
 * index, plus what compressing it can add (hashes do not compress), the object's header and
 * tag, and the footer.
 */
function indexRoom(entries: number): number {
  const raw = 4 + entries * PACK_INDEX_ENTRY_BYTES;
  return raw + (raw >> 7) + 1024;
}

export function newPackId(): string {
  return randomBytes(16).toString('hex');
}

export class PackWriter {
  private current: OpenPack | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private publishing = new Set<Promise<void>>();
  private failure: unknown;
  private aborted = false;
  private spare: Buffer | undefined;
  /** The open pack's index (one pack is open at a time). */
  private readonly index = new PackIndexBuilder();
  /** Packs fully published by this writer. */
  readonly published: string[] = [];
  /** Bytes of blobs appended (what the data costs in the repository). */
  blobBytes = 0;

  constructor(
    private readonly driver: StorageDriver,
    private readonly codec: Codec,
    private readonly key: Buffer | undefined,
    private readonly packSize: number,
    private readonly signal?: AbortSignal,
  ) {}

  /** Append one encoded blob; resolves to its locator (valid once the pack is published). */
  append(blob: Uint8Array, entry: Omit<PackIndexEntry, 'offset' | 'length'>): Promise<Locator> {
    const run = this.tail.then(() => this.appendNow(blob, entry));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async appendNow(blob: Uint8Array, entry: Omit<PackIndexEntry, 'offset' | 'length'>): Promise<Locator> {
    if (this.failure) throw this.failure;
    if (this.aborted) throw new Error('pack writer aborted');
    this.signal?.throwIfAborted();
    let pack = this.current ?? this.open(blob.length);
    // the index and footer are written after the blobs in the same arena (no copy of the pack at seal)
    if (this.index.length > 0 && pack.pos + blob.length + indexRoom(this.index.length + 1) > pack.arena.length) {
      await this.seal(pack);
      pack = this.open(blob.length);
    }
    const loc: Locator = { pack: pack.id, offset: pack.pos, length: blob.length };
    this.index.add({ ...entry, offset: pack.pos, length: blob.length });
    pack.arena.set(blob, pack.pos);
    pack.pos += blob.length;
    this.blobBytes += blob.length;
    if (pack.pos >= this.packSize) await this.seal(pack);
    return loc;
  }

  private open(firstBlob: number): OpenPack {
    const standard = this.packSize + ARENA_SLACK;
    let arena: Buffer;
    const needed = PACK_MAGIC.length + firstBlob + indexRoom(1);
    if (needed > standard) arena = Buffer.allocUnsafeSlow(needed);
    else {
      arena = this.spare ?? Buffer.allocUnsafeSlow(standard);
      this.spare = undefined;
    }
    PACK_MAGIC.copy(arena, 0);
    const pack: OpenPack = { id: newPackId(), arena, pos: PACK_MAGIC.length };
    this.index.reset();
    this.current = pack;
    return pack;
  }

  /** Add index and footer and publish in the background, once the pack before it is published. */
  private async seal(pack: OpenPack): Promise<void> {
    this.current = undefined;
    const index = encodeObject(this.codec, this.key, packKey(pack.id), this.index.bytes());
    this.index.reset();
    const footer = encodeFooter(pack.pos, index.length);
    const total = pack.pos + index.length + footer.length;
    let body: Buffer;
    if (total <= pack.arena.length) {
      index.copy(pack.arena, pack.pos);
      footer.copy(pack.arena, pack.pos + index.length);
      body = pack.arena.subarray(0, total);
    } else {
      body = Buffer.concat([pack.arena.subarray(0, pack.pos), index, footer]);
    }
    // one pack is published while the next one fills: wait for the one before to be durable
    while (this.publishing.size >= MAX_PUBLISHING) await Promise.race(this.publishing);
    if (this.failure) throw this.failure;
    const done: Promise<void> = this.driver.put(packKey(pack.id), body).then(
      () => {
        this.published.push(pack.id);
        this.publishing.delete(done);
        if (pack.arena.length === this.packSize + ARENA_SLACK) this.spare = pack.arena; // reuse
      },
      (e) => {
        this.failure ??= e;
        this.publishing.delete(done);
      },
    );
    this.publishing.add(done);
  }

  /** Publish the open pack (if any) and wait until every pack is durable. */
  async finish(): Promise<string[]> {
    await this.tail;
    if (this.failure) throw this.failure;
    if (this.current) await this.seal(this.current);
    await Promise.all(this.publishing);
    if (this.failure) throw this.failure;
    return this.published;
  }

  /** Stop writing: the open pack is never published; published packs are deleted (best effort). */
  async abort(): Promise<void> {
    this.aborted = true;
    await this.tail;
    this.current = undefined;
    await Promise.allSettled(this.publishing);
    await Promise.allSettled(this.published.map((id) => this.driver.delete(packKey(id))));
  }
}
