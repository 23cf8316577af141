/**
 * Worker thread entry: hashes, compresses and encrypts chunks (encode), or authenticates,
 * decrypts, decompresses and verifies blobs (decode), so both cores do the heavy work while the
 * main thread only moves bytes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { decodeBlob, encodeBlob } from './blob.js';
import type { Codec } from './codec.js';
import type { WorkerReply, WorkerTask } from './worker-pool.js';

const key: Buffer | undefined = workerData?.key ? Buffer.from(workerData.key as Uint8Array) : undefined;

function transferable(d: Uint8Array): Uint8Array {
  if (d.byteOffset === 0 && d.byteLength === d.buffer.byteLength) return d;
  const copy = Buffer.allocUnsafeSlow(d.byteLength);
  copy.set(d);
  return copy;
}

function handle(task: WorkerTask): { reply: WorkerReply; transfer: ArrayBuffer[] } {
  if (task.op === 'encode') {
    const hash = createHash('sha256').update(task.data).digest('hex');
    // The input buffer goes back to the main thread to be reused for the next chunk.
    const input = task.data;
    if (task.expect === hash) return { reply: { id: task.id, hash, input }, transfer: [input.buffer as ArrayBuffer] };
    const blob = encodeBlob(task.codec as Codec, key, task.data);
    return { reply: { id: task.id, hash, blob, input }, transfer: [blob.buffer as ArrayBuffer, input.buffer as ArrayBuffer] };
  }
  let plain: Uint8Array;
  try {
    plain = decodeBlob(key, task.data);
  } catch (e) {
    return { reply: { id: task.id, error: (e as Error).message }, transfer: [] };
  }
  const hash = createHash('sha256').update(plain).digest('hex');
  if (task.expect !== undefined && task.expect !== hash) {
    return { reply: { id: task.id, hash, error: 'SHA-256 of the plaintext does not match' }, transfer: [] };
  }
  if (task.discard) return { reply: { id: task.id, hash, size: plain.length }, transfer: [] };
  const data = transferable(plain);
  return { reply: { id: task.id, hash, blob: data, size: data.length }, transfer: [data.buffer as ArrayBuffer] };
}

parentPort!.on('message', (task: WorkerTask) => {
  let out: { reply: WorkerReply; transfer: ArrayBuffer[] };
  try {
    out = handle(task);
  } catch (e) {
    out = { reply: { id: task.id, error: (e as Error).message, fatal: true }, transfer: [] };
  }
  try {
    parentPort!.postMessage(out.reply, out.transfer);
  } catch {
    parentPort!.postMessage(out.reply); // not transferable (external memory): copy instead
  }
});
