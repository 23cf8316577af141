/**
 * A small pool of blob workers (worker_threads). Tasks go to the least busy worker; buffers are
 * transferred, not copied. Idle workers do not keep the process alive.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { PgkeepError } from '../errors.js';
import type { Codec } from './codec.js';
import type { DecodeDeltas, DeltaResult, EncodeDeltas } from './delta-tasks.js';

/**
 * encode: `data` is the plaintext chunk, `out` (blobBound bytes) receives the blob.
 * decode: `data` is the blob, `out` (rawLength bytes) receives the plaintext; without `out` the
 * plaintext is verified and dropped (repo check).
 * Both buffers must own their whole ArrayBuffer: they are transferred and come back in the reply.
 */
export type WorkerTask =
  | { id: number; op: 'encode'; data: Uint8Array; out: Uint8Array; codec: Codec; expect?: string }
  | ({ id: number; op: 'encodeBatch' } & EncodeBatch)
  | ({ id: number; op: 'decodeToFile' } & DecodeToFile)
  | ({ id: number; op: 'encodeDeltas' } & EncodeDeltas)
  | ({ id: number; op: 'decodeDeltas' } & DecodeDeltas)
  | { id: number; op: 'decode'; data: Uint8Array; out?: Uint8Array; rawLength: number; expect?: string }
  | { id: number; op: 'decodeMany'; data: Uint8Array; out: Uint8Array; items: DecodeItem[] };

/** One blob of a decodeMany task: where it is in `data`, and what its plaintext must be. */
export interface DecodeItem {
  at: number;
  length: number;
  rawLength: number;
  expect: string;
}

/**
 * Several consecutive chunks of one file (`data`, `length` bytes, cut every `chunkSize` bytes):
 * each is hashed, compared with `expects[i]`, and when different compressed (and encrypted) into
 * `out` (n x blobBound(chunkSize) bytes), blobs back to back. With `check`, the batch is first
 * given to the check function of that module (see ContentCheck).
 */
export interface EncodeBatch {
  data: Uint8Array;
  length: number;
  chunkSize: number;
  out: Uint8Array;
  codec: Codec;
  expects: (string | undefined)[];
  /** Chunks that, when they differ from `expects[i]`, are left unencoded (size DELTA_PENDING, delta-tasks.ts) for an encodeDeltas task. */
  deltas?: boolean[];
  check?: { module: string; params: unknown; fileOffset: number };
  /**
   * The worker first reads the batch itself: `length` bytes of the open file `fd` from `position`
   * into `data` (where they are hashed and compressed while still in this core's cache). Fewer
   * bytes at the end of the file (it shrank): the reply's `got` says how many were read and stored.
   */
  read?: { fd: number; position: number };
}

/**
 * Blobs of one range of a pack (`data`), for one or more files: `files[k]` takes the next
 * `items` items of `items`, which are decoded and verified, then their plaintexts written back
 * to back into `fd` at `position` with one write. A file's bytes are written only once all its
 * blobs passed their check.
 */
export interface DecodeToFile {
  data: Uint8Array;
  items: DecodeItem[];
  /**
   * `fd`: an open file; `create`: a file the worker creates (open flags, mode) once its blobs
   * passed their check, and whose descriptor it hands back in `opened` (the caller closes it).
   */
  files: { fd?: number; create?: { path: string; flags: number; mode: number }; position: number; items: number }[];
}

export interface WorkerReply {
  id: number;
  hash?: string;
  /** The `out` buffer back: encode: the blob (size bytes); decode: the plaintext. */
  blob?: Uint8Array;
  /** Bytes written to `blob`. */
  size?: number;
  /** The `data` buffer back, for reuse. */
  input?: Uint8Array;
  /** encode: the chunk equals `expect`; nothing was compressed. */
  reused?: boolean;
  error?: string;
  /** decodeMany, decodeDeltas: index of the item that failed. */
  failed?: number;
  /** decodeDeltas: the failed item's base blob is the damaged one. */
  onBase?: boolean;
  /** true when the worker failed unexpectedly (a bug), not because of the data. */
  fatal?: boolean;
  /** encodeDeltas: what became of each item. */
  deltas?: DeltaResult[];
  /** encodeBatch: per chunk, its SHA-256 and its blob's size in `blob` (-1: equal to `expects[i]`, -2: all zeros; neither encoded; DELTA_PENDING: left for encodeDeltas). */
  hashes?: string[];
  sizes?: number[];
  /** encodeBatch: what the check function reported; `held`: nothing was encoded (the caller reviews first). */
  report?: unknown;
  held?: boolean;
  /** decodeToFile: the descriptors of the files it created, in order (also when it failed later). */
  opened?: number[];
  /** decodeToFile: writing failed; encodeBatch with `read`: reading failed (errno code), not the data. */
  ioCode?: string;
  /** encodeBatch with `read`: the bytes read (fewer than `length`: the file ended there). */
  got?: number;
}

type DistributiveOmit<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never;
export type TaskInput = DistributiveOmit<WorkerTask, 'id'>;

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (r: WorkerReply) => void; reject: (e: unknown) => void }>;
}

export function defaultJobs(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private active = 0;
  private closed = false;

  constructor(
    readonly size: number,
    private readonly key: Buffer | undefined,
  ) {}

  private start(): void {
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(new URL('./blob-worker.js', import.meta.url), {
        workerData: { key: this.key ? new Uint8Array(this.key) : undefined },
        // A worker creates files whose descriptors the main thread closes (decodeToFile): node must
        // not count them as the worker's (it warned on a reused number, and closed them all at exit).
        trackUnmanagedFds: false,
      });
      const slot: Slot = { worker, pending: new Map() };
      worker.on('message', (r: WorkerReply) => {
        const p = slot.pending.get(r.id);
        if (!p) return;
        slot.pending.delete(r.id);
        this.done();
        p.resolve(r);
      });
      worker.on('error', (e) => this.fail(slot, e));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(slot, new Error(`blob worker exited with code ${code}`));
      });
      worker.unref();
      this.slots.push(slot);
    }
  }

  private fail(slot: Slot, e: unknown): void {
    for (const p of slot.pending.values()) {
      this.done();
      p.reject(new PgkeepError('INTERNAL', `a blob worker failed: ${(e as Error).message ?? e}`, { cause: e }));
    }
    slot.pending.clear();
  }

  private done(): void {
    // Once closing, the workers stay referenced until they have exited (see close()).
    if (--this.active === 0 && !this.closed) for (const s of this.slots) s.worker.unref();
  }

  /**
   * Start the worker threads now rather than at the first task: each takes ~60 ms of CPU to boot
   * (a V8 isolate and its modules), which then overlaps with the caller's preparations instead
   * of delaying the first decode. Idle workers still do not keep the process alive.
   */
  warm(): void {
    if (!this.closed && this.slots.length === 0) this.start();
  }

  run(task: TaskInput, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    if (this.closed) return Promise.reject(new PgkeepError('INTERNAL', 'the blob worker pool is closed'));
    if (this.slots.length === 0) this.start();
    let best = this.slots[0]!;
    for (const s of this.slots) if (s.pending.size < best.pending.size) best = s;
    const id = this.nextId++;
    if (this.active++ === 0) for (const s of this.slots) s.worker.ref();
    return new Promise((resolve, reject) => {
      best.pending.set(id, { resolve, reject });
      best.worker.postMessage({ ...task, id }, transfer);
    });
  }

  /**
   * Stop the workers. Tasks still in flight (a read stream destroyed with its read-ahead
   * decoding) are rejected: nothing may wait for an answer that will never come. The workers
   * are referenced while they terminate: an unreferenced worker's exit does not keep the event
   * loop alive, which let node end, exit code 0, with terminate() and its caller still pending.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.slots) {
      for (const p of s.pending.values())
        p.reject(new PgkeepError('INTERNAL', 'the blob worker pool was closed while a task was in flight'));
      s.pending.clear();
      s.worker.ref();
    }
    this.active = 0;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }
}
