/**
 * The streaming part of the storage conformance suite (conformance.test.ts runs it for each
 * storage kind, inside its describe): getStream, putStream of a large source with memory
 * bounded, a failing or aborted source, small and empty streams. Also the stream helpers the
 * suite shares.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { StorageFixtures, StorageKind } from '../../test-support/storage-fixtures.js';
import type { StorageDriver } from './driver.js';

export const MiB = 1024 * 1024;
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

export async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

export async function keysOf(d: StorageDriver, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of d.list(prefix)) out.push(o.key);
  return out;
}

/** A stream of `total` pseudo-random bytes in 64 KiB chunks, with a running SHA-256. */
export function randomStream(total: number, failAt?: number, everyMiB?: () => void): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let sent = 0;
  const stream = new Readable({
    read() {
      if (failAt !== undefined && sent >= failAt) {
        this.destroy(new Error('source failed on purpose'));
        return;
      }
      if (sent >= total) {
        this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(64 * 1024, total - sent));
      hash.update(chunk);
      sent += chunk.length;
      if (everyMiB && sent % MiB === 0) everyMiB();
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

/** getStream and putStream on one storage kind (call inside its describe, after fx.ready). */
export function streamingTests(fx: StorageFixtures, kind: StorageKind): void {
  test('getStream, whole and ranged', async () => {
    const d = await fx.open(kind);
    const data = randomBytes(300 * 1024);
    await d.put('s', data);
    assert.deepEqual(await readAll(await d.getStream('s')), data);
    assert.deepEqual(await readAll(await d.getStream('s', { offset: 0, length: 1 })), data.subarray(0, 1));
    assert.deepEqual(await readAll(await d.getStream('s', { offset: 12345, length: 100000 })), data.subarray(12345, 112345));
    assert.deepEqual(await readAll(await d.getStream('s', { offset: data.length - 1, length: 1 })), data.subarray(-1));
    assert.equal((await readAll(await d.getStream('s', { offset: 5, length: 0 }))).length, 0);
  });

  test('putStream of 50 MiB keeps memory bounded and stores every byte', async (t) => {
    const d = await fx.open(kind);
    // Warm up (loads the upload code, grows the heap once) so only buffering is measured.
    await d.putStream('big/warmup', randomStream(11 * MiB).stream);
    const total = 50 * MiB;
    // Collect garbage as the data flows (every MiB produced), so what remains is what the
    // driver holds on to, not the source's discarded chunks.
    const live = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    collectGarbage();
    const base = { rss: process.memoryUsage.rss(), live: live() };
    const peak = { ...base };
    const sample = () => {
      collectGarbage();
      peak.rss = Math.max(peak.rss, process.memoryUsage.rss());
      peak.live = Math.max(peak.live, live());
    };
    const src = randomStream(total, undefined, sample);
    await d.putStream('big/stream', src.stream);
    sample();
    const rssGrowth = peak.rss - base.rss;
    const liveGrowth = peak.live - base.live;
    t.diagnostic(`while storing 50 MiB: RSS grew ${(rssGrowth / MiB).toFixed(1)} MiB, live memory ${(liveGrowth / MiB).toFixed(1)} MiB`);
    // Bounded by the driver's buffers (S3: (2 in flight + 2) x 5 MiB parts), not by the size.
    assert.ok(liveGrowth < 30 * MiB, `live memory grew by ${(liveGrowth / MiB).toFixed(1)} MiB while storing 50 MiB`);
    assert.ok(rssGrowth < 36 * MiB, `RSS grew by ${(rssGrowth / MiB).toFixed(1)} MiB while storing 50 MiB`);
    const info = await d.stat('big/stream');
    assert.equal(info?.size, total);
    const h = createHash('sha256');
    for await (const c of await d.getStream('big/stream')) h.update(c);
    assert.equal(h.digest('hex'), src.digest());
    const tail = await d.get('big/stream', { offset: total - 10, length: 10 });
    assert.equal(tail.length, 10);
  });

  test('a putStream whose source fails, or that is aborted, leaves no object', async () => {
    const d = await fx.open(kind);
    const failing = randomStream(20 * MiB, 9 * MiB);
    await assert.rejects(d.putStream('broken', failing.stream));
    assert.equal(await d.stat('broken'), undefined);

    const ac = new AbortController();
    const slow = randomStream(20 * MiB);
    let seen = 0;
    slow.stream.on('data', (c: Buffer) => {
      seen += c.length;
      if (seen > 2 * MiB && !ac.signal.aborted) ac.abort();
    });
    await assert.rejects(d.putStream('aborted', slow.stream, ac.signal));
    assert.equal(await d.stat('aborted'), undefined);

    await d.put('kept', Buffer.from('old'));
    await assert.rejects(d.putStream('kept', randomStream(10 * MiB, 1 * MiB).stream));
    assert.equal((await d.get('kept')).toString(), 'old');
    assert.deepEqual(await keysOf(d, ''), ['kept']);
  });

  test('putStream of a small and of an empty stream', async () => {
    const d = await fx.open(kind);
    await d.putStream('small', Readable.from([Buffer.from('abc'), Buffer.from('def')]));
    assert.equal((await d.get('small')).toString(), 'abcdef');
    await d.putStream('none', Readable.from([]));
    assert.equal((await d.stat('none'))?.size, 0);
  });
}
