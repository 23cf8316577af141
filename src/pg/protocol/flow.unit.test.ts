import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncQueue, FlowControl } from './async-queue.js';
import { FileContent } from './file-content.js';

test('AsyncQueue delivers in order, then ends; fail() rejects the waiting consumer', async () => {
  const q = new AsyncQueue<number>();
  q.push(1);
  const pending = q.next();
  assert.deepEqual(await pending, { value: 1, done: false });
  const waiting = q.next();
  q.push(2);
  assert.deepEqual(await waiting, { value: 2, done: false });
  q.push(3);
  q.close();
  const got: number[] = [];
  for await (const v of q) got.push(v);
  assert.deepEqual(got, [3]);
  const q2 = new AsyncQueue<number>();
  const w = q2.next();
  q2.fail(new Error('boom'));
  await assert.rejects(w, /boom/);
  await assert.rejects(q2.next(), /boom/);
});

test('FlowControl pauses above the high mark and resumes at the low mark', () => {
  const log: string[] = [];
  const f = new FlowControl({ high: 100, low: 40, pause: () => log.push('pause'), resume: () => log.push('resume') });
  f.add(60);
  f.add(60);
  assert.deepEqual(log, ['pause']);
  f.sub(60);
  assert.deepEqual(log, ['pause']);
  f.sub(30);
  assert.deepEqual(log, ['pause', 'resume']);
  assert.equal(f.bytes, 30);
});

test('FileContent counts unread bytes and releases them as the reader consumes', async () => {
  const log: string[] = [];
  const f = new FlowControl({ high: 1000, pause: () => log.push('pause'), resume: () => log.push('resume') });
  const c = new FileContent(f, 100);
  for (let i = 0; i < 12; i++) c.enqueue(Buffer.alloc(100, i));
  c.finish();
  assert.equal(f.bytes, 1200);
  assert.deepEqual(log, ['pause']);
  const parts: Buffer[] = [];
  for await (const chunk of c) parts.push(chunk as Buffer);
  const all = Buffer.concat(parts);
  assert.equal(all.length, 1200);
  assert.equal(all[1150], 11);
  assert.equal(f.bytes, 0);
  assert.deepEqual(log, ['pause', 'resume']);
  // destroying an unread stream gives its bytes back
  const d = new FileContent(f, 100);
  d.enqueue(Buffer.alloc(500));
  assert.equal(f.bytes, 500);
  d.destroy();
  assert.equal(f.bytes, 0);
  d.enqueue(Buffer.alloc(10));
  assert.equal(f.bytes, 0);
});
