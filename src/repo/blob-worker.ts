/**
 * Worker thread entry: hashes, compresses and encrypts chunks (encode), or authenticates,
 * decrypts, decompresses and verifies blobs (decode), so both cores do the heavy work while the
 * main thread only moves bytes. Buffers travel both ways by transfer and are reused, so the
 * steady state allocates (almost) nothing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { decodeBlobInto, encodeBlobInto } from './blob.js';
import { compressBound, type Codec } from './codec.js';
import type { WorkerReply, WorkerTask } from './worker-pool.js';

const key: Buffer | undefined = workerData?.key ? Buffer.from(workerData.key as Uint8Array) : undefined;
let scratch = Buffer.alloc(0);

function scratchOf(n: number): Buffer {
  if (scratch.length < n) scratch = Buffer.allocUnsafeSlow(n);
  return scratch;
}

const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const ab = (u: Uint8Array) => u.buffer as ArrayBuffer;

function handle(task: WorkerTask): { reply: WorkerReply; transfer: ArrayBuffer[] } {
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
      const error = n !== it.rawLength ? `plaintext has ${n} bytes, ${it.rawLength} expected`
        : createHash('sha256').update(dst).digest('hex') !== it.expect ? 'SHA-256 of the plaintext does not match' : undefined;
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
  const error = n !== task.rawLength ? `plaintext has ${n} bytes, ${task.rawLength} expected`
    : task.expect !== undefined && task.expect !== hash ? 'SHA-256 of the plaintext does not match' : undefined;
  return { reply: { id: task.id, hash, input, blob: out, size: n, ...(error ? { error } : {}) }, transfer: back };
}

parentPort!.on('message', (task: WorkerTask) => {
  let out: { reply: WorkerReply; transfer: ArrayBuffer[] };
  try {
    out = handle(task);
  } catch (e) {
    out = { reply: { id: task.id, error: (e as Error).message, fatal: true }, transfer: [] };
  }
  parentPort!.postMessage(out.reply, out.transfer);
});
