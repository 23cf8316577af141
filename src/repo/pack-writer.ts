/**
 * Appends blobs to packs and publishes each pack when it reaches its target size or when the
 * writer finishes. A pack is streamed to the storage driver while it is written, so memory does
 * not grow with the pack size. One writer owns its packs: concurrent writers never share one.
 */
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { StorageDriver } from './storage/driver.js';
import type { Codec } from './codec.js';
import { encodeObject } from './blob.js';
import {
  encodeFooter, encodePackIndex, PACK_MAGIC, packKey, type PackIndexEntry,
} from './pack-format.js';

export interface Locator {
  pack: string;
  offset: number;
  length: number;
}

interface OpenPack {
  id: string;
  stream: PassThrough;
  put: Promise<void>;
  /** Rejects if the upload stops before the stream ends (used to avoid waiting for 'drain' forever). */
  stopped: Promise<never>;
  pos: number;
  entries: PackIndexEntry[];
}

export function newPackId(): string {
  return randomBytes(16).toString('hex');
}

export class PackWriter {
  private current: OpenPack | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly publishing: Promise<void>[] = [];
  private failure: unknown;
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
    this.signal?.throwIfAborted();
    const pack = this.current ?? this.open();
    const loc: Locator = { pack: pack.id, offset: pack.pos, length: blob.length };
    pack.entries.push({ ...entry, offset: pack.pos, length: blob.length });
    pack.pos += blob.length;
    this.blobBytes += blob.length;
    await this.write(pack, blob);
    if (pack.pos >= this.packSize) this.seal(pack);
    return loc;
  }

  private open(): OpenPack {
    const id = newPackId();
    const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
    const put = this.driver.putStream(packKey(id), stream, this.signal);
    put.catch((e) => {
      this.failure ??= e;
    });
    const stopped = put.then(() => {
      throw new Error('pack upload ended early');
    });
    stopped.catch(() => undefined);
    const pack: OpenPack = { id, stream, put, stopped, pos: 0, entries: [] };
    stream.write(PACK_MAGIC);
    pack.pos = PACK_MAGIC.length;
    this.current = pack;
    return pack;
  }

  private async write(pack: OpenPack, data: Uint8Array): Promise<void> {
    if (pack.stream.write(data)) return;
    await Promise.race([once(pack.stream, 'drain'), pack.stopped]);
    if (this.failure) throw this.failure;
  }

  /** Write the index and footer, end the stream; publication continues in the background. */
  private seal(pack: OpenPack): void {
    this.current = undefined;
    const index = encodeObject(this.codec, this.key, packKey(pack.id), encodePackIndex(pack.entries));
    pack.stream.write(index);
    pack.stream.end(encodeFooter(pack.pos, index.length));
    const done = pack.put.then(() => {
      this.published.push(pack.id);
    });
    done.catch(() => undefined);
    this.publishing.push(done);
  }

  /** Publish the open pack (if any) and wait until every pack is durable. */
  async finish(): Promise<string[]> {
    await this.tail;
    if (this.current) this.seal(this.current);
    await Promise.all(this.publishing);
    if (this.failure) throw this.failure;
    return this.published;
  }

  /** Stop writing: the open pack is never published; published packs are deleted (best effort). */
  async abort(): Promise<void> {
    this.failure ??= new Error('pack writer aborted');
    await this.tail;
    const cur = this.current;
    this.current = undefined;
    if (cur) {
      cur.stream.destroy(new Error('aborted'));
      await cur.put.catch(() => undefined);
    }
    await Promise.allSettled(this.publishing);
    await Promise.allSettled(this.published.map((id) => this.driver.delete(packKey(id))));
  }
}
