import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import { pruneSpool, putInSpool, spoolChecksum, spoolEntries, takeFromSpool } from './spool.js';
import { awaitInflight, inflightMarker, recordServed, runPrefetch } from './prefetch.js';
import { walObjectName } from '../holdings/index.js';

const SEG = 1024 * 1024;
const SYS = '7000000000000000001';

/** A 1 MiB segment `name` as PostgreSQL writes it (long page header), with timeline `tli` in it. */
function segment(name: string, tli = Number.parseInt(name.slice(0, 8), 16)): Buffer {
  const b = Buffer.alloc(SEG, 0x5a);
  b.writeUInt16LE(0xd110, 0);
  b.writeUInt16LE(0x0002, 2);
  b.writeUInt32LE(tli, 4);
  const segNo = BigInt(`0x${name.slice(8, 16)}`) * 0x1000n + BigInt(`0x${name.slice(16)}`); // 4096 segments of 1 MiB per "log"
  b.writeBigUInt64LE(segNo * BigInt(SEG), 8);
  b.writeBigUInt64LE(BigInt(SYS), 24);
  b.writeUInt32LE(SEG, 32);
  b.writeUInt32LE(8192, 36);
  return b;
}

/** Run `fn` with a scratch directory and its empty spool/, removed afterwards. */
async function inScratch(fn: (d: string, spool: string) => Promise<void>): Promise<void> {
  const d = mkdtempSync(join(tmpdir(), 'pgkeep-spool-'));
  mkdirSync(join(d, 'spool'));
  try {
    await fn(d, join(d, 'spool'));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

const A = '000000010000000000000003';
const B = '000000010000000000000004';

test('a spooled segment is served once, by rename, when its checksum and header match its name', () =>
  inScratch(async (d, spool) => {
    await putInSpool(spool, A, segment(A));
    assert.deepEqual([...(await spoolEntries(spool)).keys()], [A]);
    assert.deepEqual(await takeFromSpool(spool, A, SYS, join(d, 'out')), { served: true, segmentSize: SEG });
    assert.ok(readFileSync(join(d, 'out')).equals(segment(A)));
    const left = readdirSync(spool);
    assert.deepEqual(
      left.filter((e) => !e.startsWith('.kept-')),
      [],
      'served entries leave the spool',
    );
    assert.deepEqual(
      left,
      [`.kept-${A}.${spoolChecksum(segment(A))}`],
      'but for a second link (the end of recovery reads the last one again)',
    );
    await pruneSpool(spool, B);
    assert.deepEqual(readdirSync(spool), [], 'until recovery moves on');
    assert.deepEqual(await takeFromSpool(spool, A, SYS, join(d, 'out2')), { served: false });
  }));

test('a spooled segment damaged in the spool, of another system, timeline or position is deleted and never served', () =>
  inScratch(async (d, spool) => {
    const cases: [string, Buffer, RegExp][] = [
      [A, segment(A), /checksum/], // then a byte flipped in the middle, below
      [B, segment(A), /another position/],
      ['000000010000000000000005', segment('000000010000000000000005', 2), /timeline 2/],
    ];
    for (const [name, data] of cases) await putInSpool(spool, name, data);
    const [entryA] = readdirSync(spool).filter((e) => e.startsWith(A));
    const bytes = readFileSync(join(spool, entryA!));
    bytes[SEG / 2] = bytes[SEG / 2]! ^ 0x01;
    writeFileSync(join(spool, entryA!), bytes);
    for (const [name, , why] of cases) {
      const r = await takeFromSpool(spool, name, SYS, join(d, 'out'));
      assert.equal(r.served, false, name);
      assert.match((r as { rejected?: string }).rejected ?? '', why);
      assert.equal(existsSync(join(d, 'out')), false);
    }
    await putInSpool(spool, A, segment(A));
    assert.match(((await takeFromSpool(spool, A, '42', join(d, 'out'))) as { rejected?: string }).rejected ?? '', /system/);
    assert.deepEqual(readdirSync(spool), [], 'a refused entry goes with its second link');
  }));

test('pruning: positions recovery passed; other timelines only once a segment of this one was found', () =>
  inScratch(async (d, spool) => {
    for (const n of [A, B, '000000010000000000000006', '000000020000000000000006']) await putInSpool(spool, n, Buffer.from(n));
    await pruneSpool(spool, B);
    assert.deepEqual([...(await spoolEntries(spool)).keys()].sort(), [B, '000000010000000000000006', '000000020000000000000006']);
    await pruneSpool(spool, '000000020000000000000005', true);
    assert.deepEqual([...(await spoolEntries(spool)).keys()], ['000000020000000000000006']);
  }));

/** An archive of segments 3..`last` of timeline 1 (and what is added), counting reads. */
function archive(last: number) {
  const objects = new Map<string, Buffer>();
  const add = (name: string) => objects.set(walObjectName('c', SYS, name), segment(name));
  for (let i = 3; i <= last; i++) add(`0000000100000000000000${i.toString(16).toUpperCase().padStart(2, '0')}`);
  const reads: string[] = [];
  return {
    add,
    reads,
    repo: {
      getObject: async (key: string) => {
        reads.push(key);
        const o = objects.get(key);
        if (!o) throw new PgkeepError('NOT_FOUND', `no ${key}`);
        return o;
      },
    } as never,
  };
}

/** A prefetcher of cluster c keeping `count` segments ahead, exiting after `idleMs` idle. */
function prefetchOptions(spool: string, count: number, idleMs: number) {
  return { cluster: 'c', systemIdentifier: SYS, spoolDir: spool, count, segmentSize: SEG, maxBytes: 64 * SEG, idleMs, pollMs: 10 };
}

test('the prefetcher keeps N segments ahead of the last served, stops at the end of the archive, and exits when idle', () =>
  inScratch(async (d, spool) => {
    const a = archive(8);
    await recordServed(spool, A);
    const r = await runPrefetch(a.repo, prefetchOptions(spool, 3, 300));
    assert.equal(r.stop, 'idle');
    assert.deepEqual(r.fetched.sort(), [B, '000000010000000000000005', '000000010000000000000006']);
    assert.deepEqual([...(await spoolEntries(spool)).keys()].sort(), r.fetched);
    assert.equal(existsSync(join(spool, '.prefetch.pid')), false, 'the pid file goes with it');

    // Near the end of the archive: the first missing segment ends the window, asked for once.
    await recordServed(spool, '000000010000000000000007');
    const end = await runPrefetch(a.repo, prefetchOptions(spool, 4, 300));
    assert.deepEqual(end.fetched, ['000000010000000000000008']);
    assert.deepEqual(end.missing, ['000000010000000000000009']);
    assert.equal(a.reads.filter((k) => k.includes('000000010000000000000009')).length, 1, 'no busy loop on the missing segment');
    assert.equal(a.reads.filter((k) => k.includes('00000000000000000A')).length, 0, 'nothing past it');
    assert.deepEqual([...(await spoolEntries(spool)).keys()], ['000000010000000000000008'], 'passed segments pruned');
  }));

test('the prefetcher follows recovery onto a new timeline, holds at most maxBytes, and stops when the spool is removed', () =>
  inScratch(async (d, spool) => {
    const a = archive(4);
    for (const n of ['000000020000000000000005', '000000020000000000000006', '000000020000000000000007', '000000020000000000000008'])
      a.add(n);
    await putInSpool(spool, '000000010000000000000005', segment('000000010000000000000005'));
    await recordServed(spool, '000000020000000000000004');
    const run = runPrefetch(a.repo, {
      cluster: 'c',
      systemIdentifier: SYS,
      spoolDir: spool,
      count: 8,
      segmentSize: SEG,
      maxBytes: 2 * SEG,
      idleMs: 60_000,
      pollMs: 10,
    });
    for (let i = 0; i < 200 && (await spoolEntries(spool)).size < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      [...(await spoolEntries(spool)).keys()].sort(),
      ['000000020000000000000005', '000000020000000000000006'],
      "timeline 2 from the served segment on; the old timeline's entry pruned; two segments fill maxBytes",
    );
    rmSync(spool, { recursive: true, force: true });
    const r = await run;
    assert.equal(r.stop, 'spool-removed');
    assert.equal(existsSync(spool), false, 'nothing recreates a removed spool');
  }));

test("a get never waits for a fetch no live prefetcher is doing (a killed prefetcher's marker)", () =>
  inScratch(async (_d, spool) => {
    writeFileSync(inflightMarker(spool, A), '');
    writeFileSync(join(spool, '.prefetch.pid'), '999999999');
    const t0 = Date.now();
    await awaitInflight(spool, A, 10_000);
    assert.ok(Date.now() - t0 < 2_000, `returned after ${Date.now() - t0} ms`);
    await awaitInflight(spool, B, 10_000); // no marker: at once
    assert.ok(Date.now() - t0 < 2_500);
  }));

test('a prefetcher starting over a spool checks every entry before it writes .checked; an object that does not fit its name is never spooled', () =>
  inScratch(async (_d, spool) => {
    const five = '000000010000000000000005';
    const six = '000000010000000000000006';
    const objects = new Map([B, five, six].map((n) => [walObjectName('c', SYS, n), segment(n === six ? five : n)]));
    const reads: string[] = [];
    const repo = {
      getObject: async (key: string) => {
        reads.push(key);
        const o = objects.get(key);
        if (!o) throw new PgkeepError('NOT_FOUND', `no ${key}`);
        return o;
      },
    };
    // Left by an earlier prefetcher: B torn (a crash before its blocks reached the disk), 5 intact.
    await putInSpool(spool, B, segment(B));
    const [torn] = [...(await spoolEntries(spool)).values()];
    writeFileSync(join(spool, torn!), Buffer.alloc(SEG));
    await putInSpool(spool, five, segment(five));
    await recordServed(spool, A);
    const run = runPrefetch(repo, prefetchOptions(spool, 3, 400));
    for (let i = 0; i < 300 && !existsSync(join(spool, '.checked')); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(readFileSync(join(spool, '.checked'), 'utf8'), String(process.pid), '.checked names the prefetcher');
    const checkedAt = statSync(join(spool, '.checked')).mtimeMs;
    const kept = (await spoolEntries(spool)).get(five)!;
    assert.equal(statSync(join(spool, kept)).mtimeMs, checkedAt, 'the intact entry is dated when the checks began');
    const r = await run;
    assert.deepEqual(r.fetched.sort(), [B], 'the torn entry was deleted and fetched again; the object of 6 holds segment 5');
    const entries = await spoolEntries(spool);
    assert.deepEqual([...entries.keys()].sort(), [B, five]);
    assert.equal(statSync(join(spool, entries.get(B)!)).mtimeMs, checkedAt, 'a fetched entry is dated the same');
    assert.equal((await takeFromSpool(spool, B, SYS, join(_d, 'out'))).served, true, 'and intact');
    assert.equal(reads.filter((k) => k.includes(six)).length, 1, 'refused once, not fetched again');
    assert.equal(existsSync(join(spool, '.checked')), false, '.checked goes with the prefetcher');
  }));
