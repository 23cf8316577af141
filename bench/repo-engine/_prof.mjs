import { WorkerPool } from '/work/main/dist/repo/worker-pool.js';
import { encodeBlob } from '/work/main/dist/repo/blob.js';
import { readFileSync } from 'node:fs';
const data = readFileSync('/tmp/pgkeep-bench-small/data/base/16384/20000');
const CH = 131072;
const blobs = [];
for (let o = 0; o < data.length; o += CH) blobs.push(encodeBlob({ name: 'zstd', level: 3 }, undefined, data.subarray(o, o + CH)));
const { createHash } = await import('node:crypto');
const z = (await import('zstd-napi')).default;
let t = Date.now();
for (const b of blobs) { const p = z.decompress(b.subarray(2)); createHash('sha256').update(p).digest(); }
console.log('single thread decode+hash', Date.now() - t, 'ms for', blobs.length);
t = Date.now();
for (const b of blobs) { z.decompress(b.subarray(2)); }
console.log('single thread decode only', Date.now() - t, 'ms');
const pool = new WorkerPool(2, undefined);
await pool.run({ op: 'decode', data: Buffer.from(blobs[0]) });
t = Date.now();
const win = 16; const pend = [];
for (const b of blobs) {
  const c = Buffer.allocUnsafeSlow(b.length); b.copy(c);
  pend.push(pool.run({ op: 'decode', data: c }, [c.buffer]));
  if (pend.length >= win) await pend.shift();
}
await Promise.all(pend);
console.log('pool decode', Date.now() - t, 'ms');
await pool.close();
