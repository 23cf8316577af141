import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgkeepError } from '../../errors.js';
import { SegmentBuffer } from './segment-buffer.js';

const SEG = 1024 * 1024;

/** Deterministic bytes for LSN range [from, from + n). */
function walBytes(from: bigint, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Number((from + BigInt(i)) % 251n);
  return b;
}

test('assembles a segment from messages split anywhere, then continues with the next', () => {
  const buf = new SegmentBuffer(SEG);
  buf.beginAt(1, 3n * BigInt(SEG) + 12345n);
  assert.equal(buf.segNo, 3n);
  assert.equal(buf.fileName, '000000010000000000000003');
  assert.equal(buf.position, 3n * BigInt(SEG));
  const stream = walBytes(3n * BigInt(SEG), SEG + 5000);
  const cuts = [0, 1, 8191, 8192, 500_000, SEG - 1, SEG + 10, SEG + 5000];
  const completed: Buffer[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    let msg = stream.subarray(cuts[i]!, cuts[i + 1]!);
    let lsn = 3n * BigInt(SEG) + BigInt(cuts[i]!);
    while (msg.length) {
      const used = buf.append(lsn, msg);
      msg = msg.subarray(used);
      lsn += BigInt(used);
      if (buf.complete) {
        completed.push(Buffer.from(buf.contents()));
        buf.begin(buf.timeline, buf.segNo + 1n);
      }
    }
  }
  assert.equal(completed.length, 1);
  assert.ok(completed[0]!.equals(stream.subarray(0, SEG)));
  assert.equal(buf.segNo, 4n);
  assert.equal(buf.filled, 5000);
  assert.equal(buf.position, 4n * BigInt(SEG) + 5000n);
});

test('skips bytes already held and refuses a hole', () => {
  const buf = new SegmentBuffer(SEG);
  buf.begin(2, 0n);
  const data = walBytes(0n, 10_000);
  assert.equal(buf.append(0n, data), 10_000);
  // the server restarting at a page start re-sends bytes we hold
  const again = walBytes(8192n, 4000);
  assert.equal(buf.append(8192n, again), 4000);
  assert.equal(buf.filled, 12_192);
  assert.throws(
    () => buf.append(20_000n, Buffer.alloc(10)),
    (e: unknown) => e instanceof PgkeepError && e.code === 'DATA_INTEGRITY',
  );
});

test('partialContents is the full segment size with zeros after what was received', () => {
  const buf = new SegmentBuffer(SEG);
  buf.begin(1, 0n);
  buf.append(0n, Buffer.alloc(100, 7));
  // dirty the reused buffer beyond the position, as an earlier segment would
  buf.begin(1, 1n);
  buf.append(BigInt(SEG), Buffer.alloc(50, 9));
  const p = buf.partialContents();
  assert.equal(p.length, SEG);
  assert.ok(p.subarray(0, 50).every((x) => x === 9));
  assert.ok(p.subarray(50).every((x) => x === 0));
  assert.throws(() => buf.contents(), PgkeepError);
});
