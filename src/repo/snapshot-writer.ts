/**
 * Writing one snapshot: files are cut into chunks, hashed, compressed and encrypted in a worker
 * pool (bounded work in flight), appended to this writer's packs, and listed in file-list parts.
 * `commit` publishes the packs, then writes the manifest LAST: a snapshot exists if and only if
 * its manifest exists. Incremental forever: a chunk equal to the previous snapshot's chunk at
 * the same path and offset reuses its locator.
 */
import { createHash } from 'node:crypto';
import { PgkeepError } from '../errors.js';
import { cleanUpAfter, releaseAfterSuccess } from '../cleanup.js';
import { blobBound, encodeBlob } from './blob.js';
import { batchReader, isContentReader, type Content, type ContentCheck } from './chunker.js';
import { PackWriter } from './pack-writer.js';
import { WorkerPool } from './worker-pool.js';
import { tuneGcForBulkData } from './gc-tuning.js';
import { Semaphore } from './semaphore.js';
import { BufferPool } from './buffer-pool.js';
import { BLOB_KIND_FILE_LIST } from './pack-format.js';
import { writeFileListParts } from './file-list-writer.js';
import type { WriterSetup } from './writer-setup.js';
import { countReusedFile, emptyStats, keepPreviousChunks, previousChunks, writerMemory, type PatchRun } from './writer-chunks.js';
import { manifestFormatFor } from './manifest.js';
import { appendBatch, deltasPay, encodeDeltaChunks, newDeltaOutcomes, type DeltaOutcomes } from './writer-deltas.js';
import { RecordSpill } from './record-spill.js';
import { RecentChunks, storeChunk } from './recent-chunks.js';
import { endOfRead, workerError, type BatchRead, type ReadRun } from './writer-file-read.js';
import type { ChunkRef, FileEntry, FileRecord, SnapshotKind, SnapshotManifest, SnapshotStats } from './manifest.js';

type State = 'open' | 'committing' | 'committed' | 'aborted';

export class SnapshotWriter {
  readonly id: string;
  readonly cluster: string;
  readonly kind: SnapshotKind;
  readonly startTime = new Date();
  /** Records kept (sorted into the file list at commit, in bounded memory) and their paths. */
  private readonly records: RecordSpill;
  private readonly paths = new Set<string>();
  private readonly recent = new RecentChunks();
  private readonly adding = new Set<string>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly packs: PackWriter;
  private readonly pool: WorkerPool;
  private readonly sem: Semaphore;
  private readonly batchSize: number;
  private readonly buffers: BufferPool;
  private readonly outs: BufferPool;
  private state: State = 'open';
  /** Some record has a delta chunk: the manifest is format 2. */
  private hasDeltas = false;
  private readonly counters: SnapshotStats = emptyStats();

  constructor(private readonly s: WriterSetup) {
    this.id = s.id;
    this.cluster = s.cluster;
    this.kind = s.kind;
    tuneGcForBulkData();
    this.pool = new WorkerPool(s.jobs, s.core.key);
    const { batchSize, inflight } = writerMemory(s.jobs, s.core.chunkSize);
    this.batchSize = batchSize;
    this.sem = new Semaphore(inflight);
    this.buffers = new BufferPool(batchSize, inflight + 2);
    this.outs = new BufferPool((batchSize / s.core.chunkSize) * blobBound(s.core.chunkSize), inflight + 2);
    this.packs = new PackWriter(s.core.driver, s.codec, s.core.key, s.core.packSize, s.signal);
    this.records = new RecordSpill(s.core.chunkSize, s.spillBudgetChunks);
  }

  /** Live counters (files and bytes so far). */
  get stats(): SnapshotStats {
    return { ...this.counters, storedBytes: this.packs.blobBytes };
  }

  /** The previous snapshot's record of a path (to decide whether reuseFile applies); read part by part. */
  async previousFile(path: string): Promise<FileRecord | undefined> {
    return this.s.previous?.get(path);
  }

  /**
   * Store one file, directory or symlink. Safe to call concurrently for different paths.
   * Content is read to its end (Readable, Buffer or async iterable of buffers); none for
   * directories and symlinks.
   */
  addFile(entry: FileEntry, content?: Content): Promise<FileRecord> {
    return this.track(this.add(entry, content));
  }

  private async add(entry: FileEntry, content?: Content): Promise<FileRecord> {
    this.checkOpen();
    this.reserve(entry.path);
    try {
      let record: FileRecord;
      if (entry.type !== 'file') {
        record = { ...entry, size: 0, chunks: [] };
      } else {
        record = await this.storeContent(entry, content ?? Buffer.alloc(0));
      }
      await this.keep(record);
      return record;
    } finally {
      this.adding.delete(entry.path);
    }
  }

  private async storeContent(entry: FileEntry, content: Content): Promise<FileRecord> {
    const prev = await this.s.previous?.get(entry.path);
    const whole = this.s.fileSha256 ? createHash('sha256') : undefined;
    const chunks: ChunkRef[] = [];
    const size = await this.storeRun(0, content, prev, whole, chunks);
    return { ...entry, size, ...(whole ? { sha256: whole.digest('hex') } : {}), chunks };
  }

  /**
   * Store the content of a file from `offset` (a multiple of the chunk size) to its end, into
   * `chunks` (by index); returns the offset reached.
   */
  private async storeRun(
    offset: number,
    content: Content,
    prev: FileRecord | undefined,
    whole: ReturnType<typeof createHash> | undefined,
    chunks: ChunkRef[],
  ): Promise<number> {
    const { chunkSize } = this.s.core;
    const { check, file } = isContentReader(content) ? content : {}; // a file range is read by the workers (writer-file-read.ts)
    const reader = batchReader(content, this.batchSize);
    const run: ReadRun = { end: undefined };
    const deltaOutcomes = newDeltaOutcomes();
    const tasks: Promise<void>[] = [];
    let size = offset;
    let failed: unknown;
    // Batches are encoded in parallel but finished (hashed for the whole file, appended) in file
    // order, so a file's blobs sit back to back in a pack and are read back with few, large reads.
    let previous: Promise<unknown> = Promise.resolve();
    try {
      for (;;) {
        if (failed || run.end !== undefined) break;
        this.s.signal?.throwIfAborted();
        this.checkOpen();
        await this.sem.acquire();
        let data: Buffer;
        let n: number;
        try {
          data = this.buffers.take(this.batchSize);
          n = file ? Math.max(0, Math.min(this.batchSize, file.end - (file.start + size - offset))) : await reader.read(data);
        } catch (e) {
          this.sem.release();
          throw e;
        }
        if (n === 0) {
          this.buffers.give(data);
          this.sem.release();
          break;
        }
        const at = size;
        size += n;
        const read = file ? { range: file, position: file.start + at - offset, run } : undefined;
        const t = this.storeBatch(at, data, n, prev, check, whole, previous, deltaOutcomes, read)
          .then((refs) => {
            for (let i = 0; i < refs.length; i++) chunks[at / chunkSize + i] = refs[i]!;
          })
          .catch((e) => {
            failed ??= e;
          })
          .finally(() => this.sem.release());
        tasks.push(t);
        previous = t;
        if (n < this.batchSize) break;
      }
    } catch (e) {
      reader.close();
      throw e;
    } finally {
      await Promise.all(tasks); // never leave work running on a failed or interrupted read
    }
    if (failed) {
      reader.close();
      throw failed;
    }
    return run.end ?? size;
  }

  /**
   * Store a file of which only some chunks changed: `runs` are the changed, chunk-aligned ranges
   * (sorted, not overlapping), each with its content (read to the range's end); every other chunk
   * is the previous record's, which the caller vouches is unchanged. A run that ends early (the
   * file shrank while being read) ends the file there. The record has no whole-file SHA-256
   * (the file was not read whole); each chunk keeps its own.
   */
  addPatchedFile(entry: FileEntry & { size: number }, previous: FileRecord, runs: readonly PatchRun[]): Promise<FileRecord> {
    return this.track(this.patch(entry, previous, runs));
  }

  private async patch(entry: FileEntry & { size: number }, previous: FileRecord, runs: readonly PatchRun[]): Promise<FileRecord> {
    this.checkOpen();
    const { chunkSize } = this.s.core;
    if (previous.chunks.some((c, i) => c.offset !== i * chunkSize) || runs.some((r) => r.offset % chunkSize !== 0)) {
      throw new PgkeepError('INTERNAL', `cannot patch "${entry.path}": its chunks are not aligned to the chunk size`);
    }
    this.reserve(entry.path);
    try {
      const count = Math.ceil(entry.size / chunkSize);
      const chunks: ChunkRef[] = [];
      let size = entry.size;
      let from = 0;
      const keep = (upTo: number) => keepPreviousChunks(previous, chunks, { from, upTo, count, chunkSize }, this.counters);
      for (const r of runs) {
        keep(r.offset);
        const end = await this.storeRun(r.offset, r.content, previous, undefined, chunks);
        if (end < r.offset + r.length) {
          size = end; // the file shrank while being read: it ends here
          chunks.length = Math.ceil(end / chunkSize);
          from = Infinity;
          break;
        }
        from = r.offset + r.length;
      }
      if (from !== Infinity) keep(count * chunkSize);
      const record: FileRecord = { ...entry, size, chunks };
      await this.keep(record);
      return record;
    } finally {
      this.adding.delete(entry.path);
    }
  }

  /**
   * One batch: hashed, compared with the previous snapshot's chunks and compressed in a worker
   * (after the content's check); then, once the batches before it are done, hashed into the
   * whole file and appended. The buffers move to the worker (no copy) and come back for reuse.
   */
  private async storeBatch(
    offset: number,
    input: Buffer,
    length: number,
    prev: FileRecord | undefined,
    check: ContentCheck | undefined,
    whole: ReturnType<typeof createHash> | undefined,
    after: Promise<unknown>,
    deltaOutcomes: DeltaOutcomes,
    read?: BatchRead,
  ): Promise<ChunkRef[]> {
    const { chunkSize } = this.s.core;
    const wanted = length;
    const deltasOn = this.s.deltas && deltasPay(deltaOutcomes);
    let { befores, expects, bases } = previousChunks(prev, offset, length, chunkSize, deltasOn);
    let data = input;
    let out = this.outs.take(this.outs.size);
    try {
      const encode = async (withCheck: boolean, fromFile?: BatchRead) => {
        const reply = await this.pool.run(
          {
            op: 'encodeBatch',
            data,
            length,
            chunkSize,
            out,
            codec: this.s.codec,
            expects,
            deltas: bases.map((b) => b !== undefined),
            ...(withCheck && check ? { check: { module: check.module, params: check.params, fileOffset: offset } } : {}),
            ...(fromFile ? { read: { fd: fromFile.range.fd, position: fromFile.position } } : {}),
          },
          [data.buffer as ArrayBuffer, out.buffer as ArrayBuffer],
        );
        if (reply.input) data = Buffer.from(reply.input.buffer, reply.input.byteOffset, reply.input.byteLength);
        if (reply.blob) out = Buffer.from(reply.blob.buffer, reply.blob.byteOffset, reply.blob.byteLength);
        if (reply.error) throw workerError(reply);
        if (reply.got !== undefined) length = reply.got; // the file shrank: store what was read
        return reply;
      };
      let reply = await encode(check !== undefined, read);
      if (check && reply.report !== undefined) await check.onReport(reply.report, data.subarray(0, length), offset);
      if (length < wanted) ({ befores, expects, bases } = previousChunks(prev, offset, length, chunkSize, deltasOn));
      if (reply.held || length < wanted) reply = await encode(false); // the batch as read (and reviewed): not read again
      const batch = { data, out, length, chunkSize, codec: this.s.codec, outAt: reply.size! };
      const deltas = await encodeDeltaChunks(this.s.core, this.pool, batch, reply.sizes!, bases, deltaOutcomes);
      ({ data, out } = deltas);
      if (deltas.error) throw new PgkeepError('INTERNAL', deltas.error);
      await after;
      if (read && endOfRead(read, offset, length, wanted)) return [];
      whole?.update(data.subarray(0, length));
      const stored = { sizes: reply.sizes!, hashes: reply.hashes!, deltas: deltas.results, befores, bases };
      return await appendBatch(this.packs, this.counters, out, { offset, length, chunkSize, blobsEnd: reply.size! }, stored, (c) =>
        storeChunk(this.recent, this.packs, c, this.s, this.counters),
      );
    } finally {
      this.buffers.give(data);
      this.outs.give(out);
    }
  }

  /**
   * Keep a file of the previous snapshot without reading it (caller checked size and mtime).
   * `entry` may update metadata (mode, owner...); the content must be unchanged.
   */
  reuseFile(record: FileRecord, entry?: Partial<FileEntry>): FileRecord {
    this.checkOpen();
    if (record.chunks.some((c, i) => c.offset !== i * this.s.core.chunkSize)) {
      throw new PgkeepError('INTERNAL', `cannot reuse "${record.path}": it was stored with another chunk size`);
    }
    this.reserve(record.path);
    this.adding.delete(record.path);
    const kept: FileRecord = { ...record, ...entry, path: record.path, size: record.size, chunks: record.chunks.map((c) => ({ ...c })) };
    void this.track(this.keep(kept));
    countReusedFile(this.counters, kept);
    return kept;
  }

  /** Work `commit` and `abort` wait for. */
  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    p.catch(() => undefined).finally(() => this.inflight.delete(p));
    return p;
  }

  private reserve(path: string): void {
    if (typeof path !== 'string' || path.length === 0) throw new PgkeepError('INTERNAL', 'a snapshot file needs a non-empty path');
    if (this.paths.has(path) || this.adding.has(path)) {
      throw new PgkeepError('CONFLICT', `"${path}" was already added to snapshot ${this.cluster}/${this.id}`);
    }
    this.adding.add(path);
  }

  private keep(record: FileRecord): Promise<void> {
    this.hasDeltas ||= record.chunks.some((c) => c.base !== undefined);
    this.paths.add(record.path);
    this.counters.files++;
    this.counters.logicalBytes += record.size;
    return this.records.add(record);
  }

  private checkOpen(): void {
    if (this.state !== 'open') {
      throw new PgkeepError('INTERNAL', `snapshot ${this.cluster}/${this.id} is ${this.state}; no more files can be added`);
    }
  }

  /** Publish the packs, then the manifest (last). Returns the manifest. */
  async commit(meta: Record<string, unknown> = {}): Promise<SnapshotManifest> {
    this.checkOpen();
    await Promise.allSettled([...this.inflight]);
    this.checkOpen();
    this.state = 'committing';
    let manifest: SnapshotManifest;
    try {
      const parts = await writeFileListParts(this.records.sorted(), (json, hash) =>
        this.packs.append(encodeBlob(this.s.codec, this.s.core.key, json), {
          rawLength: json.length,
          kind: BLOB_KIND_FILE_LIST,
          sha256: hash,
        }),
      );
      await this.packs.finish();
      manifest = {
        format: manifestFormatFor(this.hasDeltas),
        id: this.id,
        cluster: this.cluster,
        kind: this.kind,
        startTime: this.startTime.toISOString(),
        stopTime: new Date().toISOString(),
        chunkSize: this.s.core.chunkSize,
        previous: this.s.previousId ?? null,
        stats: this.stats,
        meta,
        parts,
      };
      this.s.signal?.throwIfAborted();
      await this.s.publish(manifest);
    } catch (e) {
      this.state = 'aborted';
      await cleanUpAfter(e, 'deleting the packs of the unfinished snapshot', () => this.packs.abort());
      await cleanUpAfter(e, this.releasing(), () => this.cleanup());
      throw e;
    }
    // Published: the snapshot exists. Nothing after this may fail it (or delete its packs).
    this.state = 'committed';
    await releaseAfterSuccess(this.releasing(), () => this.cleanup(), this.s.onWarning);
    return manifest;
  }

  private releasing(): string {
    return `releasing the repository lock${this.s.lockId ? ` ${this.s.lockId}` : ''}`;
  }

  /** Give up: nothing becomes visible; packs already published are deleted (best effort). */
  async abort(): Promise<void> {
    if (this.state === 'committed' || this.state === 'aborted') return;
    this.state = 'aborted';
    await Promise.allSettled([...this.inflight]);
    await this.packs.abort();
    await this.cleanup();
  }

  private async cleanup(): Promise<void> {
    await this.records.close();
    await this.pool.close();
    await this.s.release();
  }
}
