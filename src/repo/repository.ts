/**
 * The repository: the one entry point for use cases (backup, WAL, dump, restore, gc). It opens
 * pgkeep.json, unlocks the master key, and offers snapshots (write, list, read, delete) and small
 * whole objects. It knows nothing about PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { PgkeepError } from '../errors.js';
import type { StorageDriver } from './storage/driver.js';
import { acquireLock, type LockHandle, type LockKind } from './locks.js';
import type { RepoCore } from './core.js';
import { DEFAULT_CODEC, parseCodec, type Codec } from './codec.js';
import { DEFAULT_SCRYPT, unwrapMasterKey, wrapMasterKey } from './key-wrap.js';
import {
  CONFIG_KEY,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_PACK_SIZE,
  newRepoConfig,
  parseChunkSize,
  readRepoConfig,
  upgradeForDeltas,
  writeRepoConfig,
  type RepoConfigFile,
} from './repo-config.js';
import { defaultJobs, WorkerPool } from './worker-pool.js';
import {
  checkClusterName,
  isSnapshotId,
  MANIFEST_FORMAT_DELTA,
  manifestName,
  newSnapshotId,
  parseManifestKey,
  validateManifest,
  type ChunkRef,
  type FileRecord,
  type SnapshotKind,
  type SnapshotManifest,
} from './manifest.js';
import { Snapshot } from './snapshot.js';
import { SnapshotWriter } from './snapshot-writer.js';
import { FileLookup } from './file-lookup.js';
import { withChunks } from './file-chunks.js';
import { readChunk, readChunksData, writeFileToFd, type WriteFileOptions } from './file-reader.js';
import { writeBatchToFiles, type BatchTarget, type FileBatch } from './file-batch.js';
import { deleteObject, getObject, listObjects, putObject, statObject, type PutObjectOptions, type StoredObjectInfo } from './objects.js';
import { damagedObject } from './integrity.js';
import { cleanUpAfter } from '../cleanup.js';

export interface InitOptions {
  /** Default codec for new data: none, gzip[:level], lz4, zstd[:level] (default zstd:3). */
  compression?: string;
  /** Chunk size in bytes or as "128k" (default 128 KiB). */
  chunkSize?: number | string;
  /** Pack target size in bytes (default 32 MiB). */
  packSize?: number;
  /** Encrypt the repository with a master key wrapped by this passphrase. */
  passphrase?: string;
  /** scrypt cost (tests use a cheaper one). */
  kdfCost?: { N: number; r: number; p: number };
  jobs?: number;
}

export interface OpenOptions {
  /** Asked only when the repository is encrypted. */
  getPassphrase?: () => Promise<string>;
  /** Number of worker threads (default: CPU count, at most 8). */
  jobs?: number;
  /** Codec for new data instead of the repository's default. */
  compression?: string;
}

export interface StartSnapshotOptions {
  cluster: string;
  kind: SnapshotKind;
  /** The snapshot to be incremental to (same cluster). */
  previous?: Snapshot | SnapshotManifest;
  jobs?: number;
  signal?: AbortSignal;
  /** Shown in the lock (default "<kind> snapshot"). */
  purpose?: string;
  /** Compute each file's whole-content SHA-256 (default true). */
  fileSha256?: boolean;
  /** Store changed chunks as deltas on their base chunks where smaller (default true; format 2). */
  deltas?: boolean;
  /** What went wrong after the snapshot was published (the lock could not be released): not a failure. */
  onWarning?: (message: string) => void;
  /** Chunks of file records held in memory before they go to a temporary file (record-spill.ts; tests lower it). */
  spillBudgetChunks?: number;
}

/** A snapshot whose manifest could not be read (failed checksum, tag or validation). */
export interface DamagedManifest {
  id: string;
  error: PgkeepError;
}

export interface ReadOptions {
  signal?: AbortSignal;
}

export class Repository implements RepoCore {
  private sharedPool: WorkerPool | undefined;
  readonly chunkSize: number;
  readonly packSize: number;

  private constructor(
    readonly driver: StorageDriver,
    readonly config: RepoConfigFile,
    readonly key: Buffer | undefined,
    readonly codec: Codec,
    readonly jobs: number,
  ) {
    this.chunkSize = config.chunkSize;
    this.packSize = config.packSize;
  }

  /** Create a repository in an empty location. CONFLICT when anything is there already. */
  static async init(driver: StorageDriver, opts: InitOptions = {}): Promise<Repository> {
    const compression = opts.compression ?? DEFAULT_CODEC;
    parseCodec(compression);
    const chunkSize = opts.chunkSize === undefined ? DEFAULT_CHUNK_SIZE : parseChunkSize(opts.chunkSize);
    const packSize = opts.packSize ?? DEFAULT_PACK_SIZE;
    for await (const o of driver.list('')) {
      if (o.key === CONFIG_KEY) {
        throw new PgkeepError('CONFLICT', `${driver.location} is already a pgkeep repository`, {
          hint: 'use it as it is ("pgkeep repo info"), or choose another location',
        });
      }
      throw new PgkeepError('CONFLICT', `${driver.location} is not empty and is not a pgkeep repository (it holds ${o.key})`, {
        hint: 'choose an empty directory or bucket prefix for the repository',
      });
    }
    const id = randomUUID();
    let key: Buffer | undefined;
    let encryption = null;
    if (opts.passphrase !== undefined) {
      const wrapped = await wrapMasterKey(opts.passphrase, id, undefined, opts.kdfCost ?? DEFAULT_SCRYPT);
      key = wrapped.masterKey;
      encryption = wrapped.settings;
    }
    const config = newRepoConfig(id, chunkSize, packSize, compression, encryption);
    const body = Buffer.from(JSON.stringify(config, null, 2) + '\n', 'utf8');
    if (!(await driver.createIfAbsent(CONFIG_KEY, body))) {
      throw new PgkeepError('CONFLICT', `${driver.location} became a pgkeep repository while it was being created`);
    }
    return new Repository(driver, config, key, parseCodec(config.compression), opts.jobs ?? defaultJobs());
  }

  /** Open an existing repository; unlocks the key of an encrypted one (PASSPHRASE when wrong). */
  static async open(driver: StorageDriver, opts: OpenOptions = {}): Promise<Repository> {
    const config = await readRepoConfig(driver);
    let key: Buffer | undefined;
    if (config.encryption) {
      if (!opts.getPassphrase) {
        throw new PgkeepError('PASSPHRASE', `repository ${driver.location} is encrypted and no passphrase was given`, {
          hint: 'set PGKEEP_PASSPHRASE or PGKEEP_PASSPHRASE_FILE, or use --passphrase-file',
        });
      }
      key = await unwrapMasterKey(await opts.getPassphrase(), config.id, config.encryption, driver.location);
    }
    const codec = parseCodec(opts.compression ?? config.compression);
    return new Repository(driver, config, key, codec, opts.jobs ?? defaultJobs());
  }

  get location(): string {
    return this.driver.location;
  }

  get encrypted(): boolean {
    return this.key !== undefined;
  }

  pool(): WorkerPool {
    return (this.sharedPool ??= new WorkerPool(this.jobs, this.key));
  }

  /** Stop the worker threads (the driver stays open: it belongs to the caller). */
  async close(): Promise<void> {
    await this.sharedPool?.close();
    this.sharedPool = undefined;
  }

  /** Re-wrap the master key under a new passphrase; no data is rewritten. */
  async changePassphrase(newPassphrase: string, kdfCost = DEFAULT_SCRYPT): Promise<void> {
    if (!this.key || !this.config.encryption) {
      throw new PgkeepError('UNSUPPORTED', `repository ${this.location} is not encrypted; it has no passphrase`, {
        hint: 'encryption is chosen at "pgkeep repo init --encrypt" time',
      });
    }
    const { settings } = await wrapMasterKey(newPassphrase, this.config.id, this.key, kdfCost);
    await writeRepoConfig(this.driver, { ...this.config, encryption: settings });
    (this.config as RepoConfigFile).encryption = settings;
  }

  /**
   * Take a repository lock: shared for anything that writes or reads data while gc could run
   * (WAL push, restore), exclusive for maintenance. LOCKED names the holder on conflict.
   */
  lock(kind: LockKind, purpose: string, cluster?: string): Promise<LockHandle> {
    return acquireLock(this.driver, { kind, purpose, cluster });
  }

  // ---- snapshots ----

  /** Start writing a snapshot; takes a shared lock until commit or abort. */
  async startSnapshot(opts: StartSnapshotOptions): Promise<SnapshotWriter> {
    checkClusterName(opts.cluster);
    const lock = await acquireLock(this.driver, {
      kind: 'shared',
      purpose: opts.purpose ?? `${opts.kind} snapshot`,
      cluster: opts.cluster,
    });
    try {
      let previous: FileLookup | undefined;
      let previousId: string | undefined;
      if (opts.previous) {
        const prev = opts.previous instanceof Snapshot ? opts.previous : new Snapshot(this, opts.previous);
        if (prev.cluster !== opts.cluster) {
          throw new PgkeepError('INTERNAL', `previous snapshot ${prev.cluster}/${prev.id} is of another cluster than ${opts.cluster}`);
        }
        previousId = prev.id;
        if (prev.manifest.chunkSize === this.chunkSize) {
          previous = new FileLookup(prev);
        }
      }
      const id = newSnapshotId();
      return new SnapshotWriter({
        core: this,
        id,
        cluster: opts.cluster,
        kind: opts.kind,
        codec: this.codec,
        jobs: opts.jobs ?? this.jobs,
        previous,
        previousId,
        ...(opts.spillBudgetChunks !== undefined ? { spillBudgetChunks: opts.spillBudgetChunks } : {}),
        fileSha256: opts.fileSha256 ?? true,
        deltas: opts.deltas ?? true,
        // Stop writing if the caller aborts or the lock is lost (removed with `repo unlock --force`).
        signal: opts.signal ? AbortSignal.any([opts.signal, lock.lost]) : lock.lost,
        publish: async (m) => {
          if (m.format === MANIFEST_FORMAT_DELTA) await upgradeForDeltas(this.driver, this.config);
          const body = Buffer.from(JSON.stringify(m), 'utf8');
          const { created } = await putObject(this, manifestName(m.cluster, m.id), body, { ifAbsent: true });
          if (!created) throw new PgkeepError('CONFLICT', `snapshot ${m.cluster}/${m.id} already exists`);
        },
        release: () => lock.release(),
        lockId: lock.id,
        onWarning: opts.onWarning,
      });
    } catch (e) {
      await cleanUpAfter(e, `releasing the repository lock ${lock.id}`, () => lock.release());
      throw e;
    }
  }

  /** Clusters that have at least one snapshot. */
  async listClusters(): Promise<string[]> {
    const out = new Set<string>();
    for await (const o of this.driver.list('snapshots/')) {
      const k = parseManifestKey(o.key);
      if (k) out.add(k.cluster);
    }
    return [...out].sort();
  }

  /** Snapshot ids of a cluster, oldest first. */
  async listSnapshotIds(cluster: string): Promise<string[]> {
    checkClusterName(cluster);
    const ids: string[] = [];
    for await (const o of this.driver.list(`snapshots/${cluster}/`)) {
      const k = parseManifestKey(o.key);
      if (k && k.cluster === cluster) ids.push(k.id);
    }
    return ids.sort();
  }

  /** Manifests of a cluster, oldest first; DATA_INTEGRITY when any of them is damaged. */
  async listSnapshots(cluster: string): Promise<SnapshotManifest[]> {
    const { manifests, damaged } = await this.readSnapshots(cluster);
    if (damaged[0]) throw damaged[0].error;
    return manifests;
  }

  /**
   * Every manifest of a cluster that can be read, oldest first, and the ids of those that are
   * damaged (with their DATA_INTEGRITY error): for callers that can go on without them and say so.
   */
  async readSnapshots(cluster: string): Promise<{ manifests: SnapshotManifest[]; damaged: DamagedManifest[] }> {
    const manifests: SnapshotManifest[] = [];
    const damaged: DamagedManifest[] = [];
    for (const id of await this.listSnapshotIds(cluster)) {
      try {
        manifests.push(await this.readManifest(cluster, id));
      } catch (e) {
        if (!(e instanceof PgkeepError && e.code === 'DATA_INTEGRITY')) throw e;
        damaged.push({ id, error: e });
      }
    }
    return { manifests, damaged };
  }

  /** Read a manifest; DATA_INTEGRITY when it is damaged. */
  async readManifest(cluster: string, id: string): Promise<SnapshotManifest> {
    const name = manifestName(cluster, id);
    const json = await getObject(this, name);
    try {
      const m = JSON.parse(json.toString('utf8')) as SnapshotManifest;
      validateManifest(m, cluster, id);
      return m;
    } catch (e) {
      throw damagedObject(name, (e as Error).message, `manifest of snapshot ${cluster}/${id}`);
    }
  }

  /** A snapshot by id or "latest"; NOT_FOUND lists the ids that exist. */
  async readSnapshot(cluster: string, id: string = 'latest'): Promise<Snapshot> {
    const ids = await this.listSnapshotIds(cluster);
    const chosen = id === 'latest' ? ids[ids.length - 1] : ids.find((x) => x === id);
    if (!chosen) {
      const what = id === 'latest' ? `cluster "${cluster}" has no snapshots` : `snapshot ${id} of cluster "${cluster}" does not exist`;
      throw new PgkeepError('NOT_FOUND', `${what} in ${this.location}`, {
        hint: ids.length
          ? `existing snapshots: ${ids.slice(-20).join(', ')}${ids.length > 20 ? ` (and ${ids.length - 20} older)` : ''}`
          : 'take a backup or dump first',
        details: { cluster, id, existing: ids },
      });
    }
    return new Snapshot(this, await this.readManifest(cluster, chosen));
  }

  /** Delete a snapshot's manifest; its packs are freed by the next gc. */
  async deleteSnapshot(cluster: string, id: string): Promise<void> {
    if (!isSnapshotId(id) || !(await deleteObject(this, manifestName(cluster, id)))) {
      throw new PgkeepError('NOT_FOUND', `snapshot ${id} of cluster "${cluster}" does not exist in ${this.location}`);
    }
  }

  /** A stored file's content, verified chunk by chunk (DATA_INTEGRITY on any damage); a record kept without its chunk list (withoutChunks) has it read back. */
  readFile(snapshot: Snapshot, file: string | FileRecord, opts: ReadOptions = {}): Readable {
    const self = this;
    async function* gen(): AsyncGenerator<Buffer> {
      const record = typeof file === 'string' ? await snapshot.file(file) : await withChunks(snapshot, file);
      if (!record) {
        throw new PgkeepError('NOT_FOUND', `snapshot ${snapshot.cluster}/${snapshot.id} has no file "${file as string}"`);
      }
      yield* readChunksData(self, record, {
        signal: opts.signal,
        context: `file "${record.path}" of snapshot ${snapshot.cluster}/${snapshot.id}`,
      });
    }
    return Readable.from(gen(), { objectMode: false, highWaterMark: this.chunkSize * 2 });
  }

  /**
   * Write a stored file's content, verified chunk by chunk, into the open file descriptor `fd` at
   * its offsets (the blob workers decode and write; see writeFileToFd). Resolves to the bytes
   * written; whether it succeeds or fails, no write is in flight once it settles.
   */
  writeFile(snapshot: Snapshot, record: FileRecord, fd: number, opts: Omit<WriteFileOptions, 'context'> = {}): Promise<number> {
    const context = `file "${record.path}" of snapshot ${snapshot.cluster}/${snapshot.id}`;
    return withChunks(snapshot, record).then((r) => writeFileToFd(this, r, fd, { ...opts, context }));
  }

  /** The files of `batch` (records with their chunks) written into `targets[i]` with one read and one worker task (file-batch.ts): their descriptors. */
  writeFileBatch(snapshot: Snapshot, batch: FileBatch, targets: BatchTarget[]): Promise<number[]> {
    return writeBatchToFiles(this, batch, targets, `snapshot ${snapshot.cluster}/${snapshot.id}`);
  }

  /** Chunk list of a stored file (hashes and locators), without reading data. */
  readChunks(record: FileRecord): ChunkRef[] {
    return record.chunks.map((c) => ({ ...c }));
  }

  /** One chunk's plaintext, verified. */
  readChunk(chunk: ChunkRef, context?: string): Promise<Buffer> {
    return readChunk(this, chunk, context);
  }

  // ---- small whole objects ----

  putObject(name: string, data: Uint8Array, opts?: PutObjectOptions): Promise<{ created: boolean; key: string }> {
    return putObject(this, name, data, opts);
  }
  getObject(name: string): Promise<Buffer> {
    return getObject(this, name);
  }
  statObject(name: string): Promise<StoredObjectInfo | undefined> {
    return statObject(this, name);
  }
  listObjects(prefix: string): AsyncGenerator<StoredObjectInfo> {
    return listObjects(this, prefix);
  }
  deleteObject(name: string): Promise<boolean> {
    return deleteObject(this, name);
  }
}
