/**
 * Worker thread entry: hashes, compresses and encrypts chunks (encode), or authenticates,
 * decrypts, decompresses and verifies blobs (decode), so both cores do the heavy work while the
 * main thread only moves bytes. Buffers travel both ways by transfer and are reused, so the
 * steady state allocates (almost) nothing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { openSync, readSync, writeSync } from 'node:fs';
import { blobBound, decodeBlobInto, encodeBlobInto } from './blob.js';
import { compressBound, type Codec } from './codec.js';
import type { CheckFunction } from './chunker.js';
import { isZeroChunk, ZERO_CHUNK, zeroChunkHash } from './zero-chunk.js';
import type { DecodeToFile, EncodeBatch, WorkerReply, WorkerTask } from './worker-pool.js';
import { decodeDeltas, encodeDeltas } from './delta-worker.js';
import { DELTA_PENDING } from './delta-tasks.js';

const key: Buffer | undefined = workerData?.key ? Buffer.from(workerData.key as Uint8Array) : undefined;
let scratch = Buffer.alloc(0);

function scratchOf(n: number): Buffer {
  if (scratch.length < n) scratch = Buffer.allocUnsafeSlow(n);
  return scratch;
}

let plainScratch = Buffer.alloc(0);

function plainOf(n: number): Buffer {
  if (plainScratch.length < n) plainScratch = Buffer.allocUnsafeSlow(n);
  return plainScratch;
}

const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const ab = (u: Uint8Array) => u.buffer as ArrayBuffer;
const sha256hex = (u: Uint8Array) => createHash('sha256').update(u).digest('hex');

/** Check functions of content checks, by module URL (imported once per worker). */
const checks = new Map<string, CheckFunction>();

async function loadCheck(module: string): Promise<void> {
  if (checks.has(module)) return;
  const m = (await import(module)) as { checkBatch?: CheckFunction };
  if (typeof m.checkBatch !== 'function') throw new Error(`${module} exports no checkBatch function`);
  checks.set(module, m.checkBatch);
}

/** Read `length` bytes of `fd` from `position` into `into`; fewer only where the file ends. */
function readAllSync(fd: number, into: Uint8Array, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, into, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

function encodeBatch(id: number, task: EncodeBatch, back: ArrayBuffer[]): { reply: WorkerReply; transfer: ArrayBuffer[] } {
  const input = task.data;
  const out = task.out;
  let length = task.length;
  if (task.read) {
    try {
      length = readAllSync(task.read.fd, input, task.length, task.read.position);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return { reply: { id, input, blob: out, error: err.message, ioCode: err.code ?? 'EIO' }, transfer: back };
    }
  }
  const got = task.read ? { got: length } : {};
  const data = input.subarray(0, length);
  let report: unknown;
  if (task.check) {
    const r = checks.get(task.check.module)!(data, task.check.fileOffset, task.check.params);
    report = r?.report;
    if (r?.hold) return { reply: { id, input, blob: out, report, held: true, ...got }, transfer: back };
  }
  const hashes: string[] = [];
  const sizes: number[] = [];
  const dst = buf(out);
  const scratch = scratchOf(compressBound(task.chunkSize));
  let pos = 0;
  for (let at = 0; at < data.length; at += task.chunkSize) {
    const chunk = data.subarray(at, Math.min(data.length, at + task.chunkSize));
    const zero = isZeroChunk(chunk);
    const hash = zero ? zeroChunkHash(chunk.length) : sha256hex(chunk);
    hashes.push(hash);
    if (task.expects[hashes.length - 1] === hash || zero) {
      sizes.push(zero && task.expects[hashes.length - 1] !== hash ? ZERO_CHUNK : -1);
      continue;
    }
    if (task.deltas?.[hashes.length - 1]) {
      sizes.push(DELTA_PENDING);
      continue;
    }
    const n = encodeBlobInto(task.codec, key, chunk, dst.subarray(pos, pos + blobBound(chunk.length)), scratch);
    sizes.push(n);
    pos += n;
  }
  return { reply: { id, input, blob: out, size: pos, hashes, sizes, ...got, ...(report !== undefined ? { report } : {}) }, transfer: back };
}

function writeAllSync(fd: number, data: Buffer, position: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, position + done);
}

function decodeToFile(id: number, task: DecodeToFile, back: ArrayBuffer[]): { reply: WorkerReply; transfer: ArrayBuffer[] } {
  const input = task.data;
  const opened: number[] = [];
  let i = 0;
  let written = 0;
  for (const file of task.files) {
    const end = i + file.items;
    let total = 0;
    for (let k = i; k < end; k++) total += task.items[k]!.rawLength;
    const plain = plainOf(total);
    let pos = 0;
    for (; i < end; i++) {
      const it = task.items[i]!;
      const dst = plain.subarray(pos, pos + it.rawLength);
      let n: number;
      try {
        n = decodeBlobInto(key, input.subarray(it.at, it.at + it.length), dst);
      } catch (e) {
        return { reply: { id, input, opened, error: (e as Error).message, failed: i }, transfer: back };
      }
      const error =
        n !== it.rawLength
          ? `plaintext has ${n} bytes, ${it.rawLength} expected`
          : sha256hex(dst) !== it.expect
            ? 'SHA-256 of the plaintext does not match'
            : undefined;
      if (error) return { reply: { id, input, opened, error, failed: i }, transfer: back };
      pos += n;
    }
    try {
      // Created here, off the main thread: a file system slow to create files (ext4 looking for a
      // free inode past thousands deleted moments ago) then holds a worker, not every other step.
      let fd = file.fd;
      if (fd === undefined) opened.push((fd = openSync(file.create!.path, file.create!.flags, file.create!.mode)));
      writeAllSync(fd, plain.subarray(0, pos), file.position);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return { reply: { id, input, opened, error: err.message, ioCode: err.code ?? 'EIO' }, transfer: back };
    }
    written += pos;
  }
  return { reply: { id, input, opened, size: written }, transfer: back };
}

function handle(task: WorkerTask): { reply: WorkerReply; transfer: ArrayBuffer[] } {
  if (task.op === 'encodeBatch') return encodeBatch(task.id, task, [ab(task.data), ab(task.out)]);
  if (task.op === 'decodeToFile') return decodeToFile(task.id, task, [ab(task.data)]);
  if (task.op === 'encodeDeltas') {
    const back = [ab(task.data), ab(task.out), ab(task.bases)];
    return { reply: { id: task.id, input: task.data, blob: task.out, deltas: encodeDeltas(key, task) }, transfer: back };
  }
  if (task.op === 'decodeDeltas') {
    const r = decodeDeltas(key, task);
    const back = [ab(task.data), ...(task.out ? [ab(task.out)] : [])];
    return { reply: { id: task.id, input: task.data, blob: task.out, ...r }, transfer: back };
  }
  const input = task.data;
  const out = task.out;
  const back = [ab(input), ...(out ? [ab(out)] : [])];
  if (task.op === 'encode') {
    const hash = createHash('sha256').update(input).digest('hex');
    if (task.expect === hash) return { reply: { id: task.id, hash, input, blob: out, reused: true }, transfer: back };
    const n = encodeBlobInto(task.codec as Codec, key, input, buf(out!), scratchOf(compressBound(input.length)));
    return { reply: { id: task.id, hash, input, blob: out, size: n }, transfer: back };
  }
  if (task.op === 'decodeMany') {
    // Blobs back to back in `input`; plaintexts back to back in `out`.
    let pos = 0;
    for (let i = 0; i < task.items.length; i++) {
      const it = task.items[i]!;
      const dst = out!.subarray(pos, pos + it.rawLength);
      let n: number;
      try {
        n = decodeBlobInto(key, input.subarray(it.at, it.at + it.length), dst);
      } catch (e) {
        return { reply: { id: task.id, input, blob: out, error: (e as Error).message, failed: i }, transfer: back };
      }
      const error =
        n !== it.rawLength
          ? `plaintext has ${n} bytes, ${it.rawLength} expected`
          : createHash('sha256').update(dst).digest('hex') !== it.expect
            ? 'SHA-256 of the plaintext does not match'
            : undefined;
      if (error) return { reply: { id: task.id, input, blob: out, error, failed: i }, transfer: back };
      pos += n;
    }
    return { reply: { id: task.id, input, blob: out, size: pos }, transfer: back };
  }
  const target = out ?? scratchOf(task.rawLength);
  let n: number;
  try {
    n = decodeBlobInto(key, input, target.subarray(0, task.rawLength));
  } catch (e) {
    return { reply: { id: task.id, input, blob: out, error: (e as Error).message }, transfer: back };
  }
  const hash = createHash('sha256').update(target.subarray(0, n)).digest('hex');
  const error =
    n !== task.rawLength
      ? `plaintext has ${n} bytes, ${task.rawLength} expected`
      : task.expect !== undefined && task.expect !== hash
        ? 'SHA-256 of the plaintext does not match'
        : undefined;
  return { reply: { id: task.id, hash, input, blob: out, size: n, ...(error ? { error } : {}) }, transfer: back };
}

function run(task: WorkerTask): void {
  let out: { reply: WorkerReply; transfer: ArrayBuffer[] };
  try {
    out = handle(task);
  } catch (e) {
    out = { reply: { id: task.id, error: (e as Error).message, fatal: true }, transfer: [] };
  }
  try {
    parentPort!.postMessage(out.reply, out.transfer);
  } catch (e) {
    parentPort!.postMessage({ id: task.id, error: `cannot send the reply: ${(e as Error).message}`, fatal: true });
  }
}

// Tasks run one at a time, in the order they came (they share the scratch buffers); only the
// first use of a check module waits for its import.
let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', (task: WorkerTask) => {
  const module = task.op === 'encodeBatch' ? task.check?.module : undefined;
  if (module === undefined || checks.has(module)) {
    queue = queue.then(() => run(task)).catch(() => undefined);
    return;
  }
  queue = queue
    .then(() => loadCheck(module))
    .then(
      () => run(task),
      (e: unknown) => {
        parentPort!.postMessage({ id: task.id, error: `cannot load ${module}: ${(e as Error).message}`, fatal: true });
      },
    )
    .catch(() => undefined); // the queue must go on whatever happened
});
