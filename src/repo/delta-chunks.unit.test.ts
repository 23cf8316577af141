import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import { PosixDriver } from './storage/posix/index.js';
import { Repository } from './repository.js';
import { checkRepository } from './check.js';
import { garbageCollect } from './gc.js';
import type { SnapshotManifest } from './manifest.js';
import { packKey } from './pack-format.js';
import { newPosixRepo, randomData, readAll, tempDir } from './test-utils.js';
import { deltasPay } from './writer-deltas.js';

const CHUNK = 128 * 1024;
const PAGE = 8192;
let dir: { path: string; remove(): Promise<void> };
let n = 0;
const fresh = () => join(dir.path, `r${++n}`);

before(async () => {
  dir = await tempDir('pgkeep-delta-');
});
after(async () => {
  await dir.remove();
});

/** A copy of `data` with one byte changed in each page listed (chunk index, page in chunk). */
function touch(data: Buffer, pages: [number, number][]): Buffer {
  const out = Buffer.from(data);
  for (const [c, p] of pages) out[c * CHUNK + p * PAGE + 100] = (out[c * CHUNK + p * PAGE + 100]! + 1) & 255;
  return out;
}

async function snapshot(repo: Repository, files: Record<string, Buffer>, previous?: SnapshotManifest, deltas?: boolean) {
  const w = await repo.startSnapshot({ cluster: 'main', kind: 'physical', previous, deltas });
  for (const [path, data] of Object.entries(files)) await w.addFile({ path, type: 'file', mode: 0o600, mtimeMs: 0 }, data);
  return w.commit();
}

async function content(repo: Repository, id: string, path: string): Promise<Buffer> {
  return readAll(repo.readFile(await repo.readSnapshot('main', id), path));
}

test('scattered page changes are stored as deltas (about the pages changed) on full base chunks, and read back identical', async () => {
  const repo = await newPosixRepo(fresh(), { compression: 'none', chunkSize: CHUNK });
  try {
    const v1 = randomData(16 * CHUNK + 5000); // incompressible: stored bytes are the bytes stored
    const s1 = await snapshot(repo, { 'base/5/16384': v1 });
    // one page changed in every other chunk
    const v2 = touch(
      v1,
      [0, 2, 4, 6, 8, 10, 12, 14].map((c): [number, number] => [c, 3]),
    );
    const s2 = await snapshot(repo, { 'base/5/16384': v2 }, s1);
    assert.equal(s2.format, 2);
    assert.equal(s2.stats.newChunks, 8);
    assert.equal(s2.stats.deltaChunks, 8);
    // 8 changed pages and their headers, plus the file list: far below 8 whole chunks (1 MiB)
    assert.ok(s2.stats.storedBytes < 8 * (PAGE + 200) + 4096, `stored ${s2.stats.storedBytes} bytes for 8 changed pages`);
    assert.ok((await content(repo, s2.id, 'base/5/16384')).equals(v2));

    // chunk 0 changes again (a delta on the same full base, never on the delta); chunk 1 changes
    // in more than half its pages (stored whole: it becomes the base of later deltas)
    const v3 = touch(v2, [[0, 9], ...[0, 1, 2, 3, 4, 5, 6, 7, 8].map((p): [number, number] => [1, p])]);
    const s3 = await snapshot(repo, { 'base/5/16384': v3 }, s2);
    const [f1, f3] = [
      await (await repo.readSnapshot('main', s1.id)).file('base/5/16384'),
      await (await repo.readSnapshot('main', s3.id)).file('base/5/16384'),
    ];
    const c0 = f3!.chunks[0]!;
    assert.deepEqual(c0.base, {
      pack: f1!.chunks[0]!.pack,
      packOffset: f1!.chunks[0]!.packOffset,
      length: f1!.chunks[0]!.length,
      sha256: f1!.chunks[0]!.sha256,
    });
    assert.equal(f3!.chunks[1]!.base, undefined, 'a chunk changed in more than half its pages is stored whole');
    assert.equal(s3.stats.deltaChunks, 1);
    assert.ok((await content(repo, s3.id, 'base/5/16384')).equals(v3));
    const check = await checkRepository(repo, { readData: true });
    assert.deepEqual(check.damaged, []);
    assert.equal(check.deltasRebuilt, 9, 'every distinct delta chunk rebuilt and verified (8 of s2, chunk 0 again in s3)');
  } finally {
    await repo.close();
  }
});

test('the same changes without deltas store whole chunks (what the measure above is against)', async () => {
  const repo = await newPosixRepo(fresh(), { compression: 'none', chunkSize: CHUNK });
  try {
    const v1 = randomData(4 * CHUNK);
    const s1 = await snapshot(repo, { f: v1 });
    const s2 = await snapshot(repo, { f: touch(v1, [[1, 0]]) }, s1, false);
    assert.equal(s2.format, 1);
    assert.ok(s2.stats.storedBytes > CHUNK);
  } finally {
    await repo.close();
  }
});

test('expiring the snapshots that stored the base chunks keeps them for the delta: gc, repack, read, check (encrypted)', async () => {
  const repo = await newPosixRepo(fresh(), { compression: 'zstd:3', chunkSize: CHUNK, packSize: 256 * 1024, passphrase: 'pw' });
  try {
    const v1 = randomData(12 * CHUNK);
    const s1 = await snapshot(repo, { a: v1 });
    const v2 = touch(v1, [
      [0, 1],
      [5, 7],
      [11, 15],
    ]);
    const s2 = await snapshot(repo, { a: v2 }, s1);
    assert.equal(s2.stats.deltaChunks, 3);
    await repo.deleteSnapshot('main', s1.id);
    // every pack is mostly dead now (the base chunks are a few of s1's): repack them all
    const report = await garbageCollect(repo, { repackBelow: 0.99 });
    assert.ok(report.repacked.length + report.deleted.length > 0, 'gc did work');
    assert.ok((await content(repo, s2.id, 'a')).equals(v2), 'the newer snapshot reads back after gc');
    const f2 = await (await repo.readSnapshot('main', s2.id)).file('a');
    assert.ok(f2!.chunks[5]!.base, 'still a delta, on its moved base');
    const check = await checkRepository(repo, { readData: true });
    assert.deepEqual(check.damaged, []);
    assert.equal(check.deltasRebuilt, 3);
    // a later snapshot still makes deltas on the moved base
    const s3 = await snapshot(repo, { a: touch(v2, [[5, 8]]) }, s2);
    assert.equal(s3.stats.deltaChunks, 1);
  } finally {
    await repo.close();
  }
});

test('a damaged base chunk fails the read of the delta chunk and check --read-data names the snapshot', async () => {
  const path = fresh();
  const repo = await newPosixRepo(path, { compression: 'none', chunkSize: CHUNK });
  try {
    const v1 = randomData(4 * CHUNK);
    const s1 = await snapshot(repo, { a: v1 });
    const s2 = await snapshot(repo, { a: touch(v1, [[2, 2]]) }, s1);
    await repo.deleteSnapshot('main', s1.id);
    const base = (await (await repo.readSnapshot('main', s2.id)).file('a'))!.chunks[2]!.base!;
    const file = join(path, packKey(base.pack));
    const bytes = await readFile(file);
    const at = base.packOffset + 2 + 50 * 1024; // in a page the delta does not replace
    bytes[at] = bytes[at]! ^ 0xff;
    await writeFile(file, bytes);
    await assert.rejects(content(repo, s2.id, 'a'), (e: PgkeepError) => e.code === 'DATA_INTEGRITY' && /base chunk/.test(e.message));
    const check = await checkRepository(repo, { readData: true });
    assert.equal(check.ok, false);
    assert.ok(
      check.damaged.some((d) => d.snapshots.includes(`main/${s2.id}`) && /rebuilt/.test(d.problem)),
      JSON.stringify(check.damaged),
    );
  } finally {
    await repo.close();
  }
});

test('a version-1 repository is read as it is and upgraded to version 2 by its first snapshot with a delta', async () => {
  const path = fresh();
  const setup = await newPosixRepo(path, { compression: 'zstd:3', chunkSize: CHUNK });
  await setup.close();
  const config = JSON.parse(await readFile(join(path, 'pgkeep.json'), 'utf8'));
  await writeFile(join(path, 'pgkeep.json'), JSON.stringify({ ...config, version: 1 }));
  const v1 = randomData(3 * CHUNK);
  let repo = await Repository.open(new PosixDriver(path), { jobs: 2 });
  const s1 = await snapshot(repo, { a: v1 }, undefined); // no previous: no delta, a format-1 manifest
  assert.equal(s1.format, 1);
  assert.equal(JSON.parse(await readFile(join(path, 'pgkeep.json'), 'utf8')).version, 1, 'nothing needed version 2 yet');
  await repo.close();
  repo = await Repository.open(new PosixDriver(path), { jobs: 2 });
  try {
    assert.deepEqual(await repo.listSnapshotIds('main'), [s1.id]);
    assert.ok((await content(repo, s1.id, 'a')).equals(v1));
    const v2 = touch(v1, [[1, 4]]);
    const s2 = await snapshot(repo, { a: v2 }, s1);
    assert.equal(s2.format, 2);
    assert.equal(JSON.parse(await readFile(join(path, 'pgkeep.json'), 'utf8')).version, 2);
    assert.ok((await content(repo, s1.id, 'a')).equals(v1));
    assert.ok((await content(repo, s2.id, 'a')).equals(v2));
  } finally {
    await repo.close();
  }
  await writeFile(join(path, 'pgkeep.json'), JSON.stringify({ ...config, version: 3 }));
  await assert.rejects(
    Repository.open(new PosixDriver(path)),
    (e: PgkeepError) => e.code === 'REPOSITORY' && /version 3; this pgkeep reads versions 1 and 2/.test(e.message),
  );
});

test('a file rewritten throughout is stored whole, and stops trying deltas once they mostly do not pay', async () => {
  assert.equal(deltasPay({ tried: 15, whole: 15 }), true, 'too few tries to judge');
  assert.equal(deltasPay({ tried: 16, whole: 12 }), false);
  assert.equal(deltasPay({ tried: 16, whole: 11 }), true);
  const repo = await newPosixRepo(fresh(), { compression: 'none', chunkSize: CHUNK });
  try {
    const v1 = randomData(40 * CHUNK);
    const s1 = await snapshot(repo, { a: v1 });
    const v2 = randomData(40 * CHUNK);
    const s2 = await snapshot(repo, { a: v2 }, s1);
    assert.equal(s2.stats.deltaChunks, 0);
    assert.equal(s2.stats.newChunks, 40);
    assert.ok((await content(repo, s2.id, 'a')).equals(v2));
  } finally {
    await repo.close();
  }
});
