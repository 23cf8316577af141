/**
 * gc and repo check through the sorted spill of blob references (refs.ts, ref-spill.ts) with a
 * budget of a few records, so every walk merges many temporary runs: a blob whose only reference
 * is in the last run is kept, a pack only an unfinished snapshot wrote is left alone, unreferenced
 * packs are deleted, a repack in several batches keeps every file readable, and damage is still
 * named with its snapshots and files.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { closeSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { PgkeepError } from '../errors.js';
import { smallDisks } from '../test-support/small-disk.js';
import { faultTest } from '../test-support/faults.js';
import { garbageCollect } from './gc.js';
import { checkRepository } from './check.js';
import { collectRefs } from './refs.js';
import { packKey } from './pack-format.js';
import type { Repository } from './repository.js';
import { newPosixRepo, packIds, randomData, readAll, tempDir } from './test-utils.js';

const CHUNK = 4096;
const BUDGET = 3;
let dir: { path: string; remove(): Promise<void> };
let n = 0;
const fresh = () => join(dir.path, `r${++n}`);
const entry = (path: string) => ({ path, type: 'file' as const, mode: 0o600, mtimeMs: 1 });

before(async () => {
  dir = await tempDir('pgkeep-gc-spill-');
});
after(() => dir.remove());

/** One snapshot of the given files; returns its id and the packs it added. */
async function snapshot(repo: Repository, files: Record<string, Buffer>): Promise<{ id: string; packs: string[] }> {
  const before = await packIds(repo);
  const w = await repo.startSnapshot({ cluster: 'main', kind: 'physical' });
  for (const [path, data] of Object.entries(files)) await w.addFile(entry(path), data);
  const m = await w.commit({});
  return { id: m.id, packs: (await packIds(repo)).filter((p) => !before.includes(p)) };
}

test('through many spill runs: the last run’s only reference keeps its pack, unreferenced packs go', async () => {
  const repo = await newPosixRepo(fresh(), { chunkSize: CHUNK, packSize: 64 * 1024, compression: 'none' });
  const a = randomData(40 * CHUNK);
  const gone = randomData(20 * CHUNK);
  const z = randomData(3 * CHUNK);
  const s1 = await snapshot(repo, { a });
  const s2 = await snapshot(repo, { gone });
  // listed last: its references are the last ones added, held in memory until the merge
  const s3 = await snapshot(repo, { z });
  const refs = await collectRefs(repo, true, { budget: BUDGET });
  try {
    assert.ok(refs.spilledRuns >= 10, `expected many runs, got ${refs.spilledRuns}`);
    let blobs = 0;
    let last = '';
    for await (const b of refs.blobs()) {
      const key = `${refs.packs.indexOf(b.pack)}:${String(b.offset).padStart(12, '0')}`;
      assert.ok(key > last, 'blobs come once each, pack by pack, by offset');
      last = key;
      blobs++;
    }
    assert.equal(blobs, 40 + 20 + 3 + 3, 'every chunk and one file list per snapshot');
  } finally {
    await refs.close();
  }

  await repo.deleteSnapshot('main', s2.id);
  const report = await garbageCollect(repo, { refBudget: BUDGET });
  assert.deepEqual(report.deleted.map((p) => p.pack).sort(), s2.packs, 'exactly the packs only the deleted snapshot used');
  assert.deepEqual(report.repacked, []);
  assert.deepEqual(await packIds(repo), [...s1.packs, ...s3.packs].sort());
  assert.ok((await readAll(repo.readFile(await repo.readSnapshot('main', s3.id), 'z'))).equals(z));
  assert.ok((await readAll(repo.readFile(await repo.readSnapshot('main', s1.id), 'a'))).equals(a));
  const check = await checkRepository(repo, { readData: true, refBudget: BUDGET });
  assert.equal(check.ok, true, JSON.stringify(check.damaged));
  assert.equal(check.blobs, 40 + 3 + 2);
  await repo.close();
});

test('a pack only an unfinished snapshot wrote is left alone, and kept once that snapshot is published', async () => {
  const repo = await newPosixRepo(fresh(), { chunkSize: CHUNK, packSize: 16 * 1024, compression: 'none' });
  await snapshot(repo, { a: randomData(8 * CHUNK) });
  const before = await packIds(repo);
  const data = randomData(16 * CHUNK);
  const w = await repo.startSnapshot({ cluster: 'main', kind: 'physical' });
  await w.addFile(entry('late'), data);
  const written = (await packIds(repo)).filter((p) => !before.includes(p));
  assert.ok(written.length > 0, 'the writer sealed packs before its manifest exists');
  // gc itself cannot start while the writer holds its shared lock; a dry run says what it would do
  await assert.rejects(garbageCollect(repo, { refBudget: BUDGET }), /lock/i);
  const dry = await garbageCollect(repo, { dryRun: true, refBudget: BUDGET });
  assert.ok(dry.protectedPacks >= written.length, 'the writer’s packs are newer than its lock');
  assert.deepEqual(
    dry.deleted.filter((p) => written.includes(p.pack)),
    [],
  );
  const m = await w.commit({});
  const report = await garbageCollect(repo, { refBudget: BUDGET });
  assert.deepEqual(report.deleted, [], 'every pack is referenced now');
  assert.ok((await readAll(repo.readFile(await repo.readSnapshot('main', m.id), 'late'))).equals(data));
  await repo.close();
});

test('a repack in batches of a few blobs keeps every file readable and every manifest pointing at live packs', async () => {
  const repo = await newPosixRepo(fresh(), { chunkSize: CHUNK, packSize: 32 * 1024, compression: 'none' });
  const files: Record<string, Buffer> = {};
  // files interleaved so each pack holds chunks of a kept and of a dropped file
  const w1 = await repo.startSnapshot({ cluster: 'main', kind: 'physical' });
  for (let i = 0; i < 6; i++) {
    const data = randomData(4 * CHUNK);
    files[`f${i}`] = data;
    await w1.addFile(entry(`f${i}`), data);
  }
  const m1 = await w1.commit({});
  const prev = await repo.readSnapshot('main', m1.id);
  const w2 = await repo.startSnapshot({ cluster: 'main', kind: 'physical', previous: prev });
  for (const path of ['f0', 'f2', 'f4']) w2.reuseFile((await w2.previousFile(path))!);
  const m2 = await w2.commit({});
  await repo.deleteSnapshot('main', m1.id);
  const report = await garbageCollect(repo, { refBudget: BUDGET, repackBatchBlobs: 2, repackBelow: 0.9 });
  assert.ok(report.repacked.length >= 2, `several packs repacked, got ${report.repacked.length}`);
  const left = await packIds(repo);
  for (const p of report.repacked) assert.ok(!left.includes(p.pack), `${p.pack} deleted`);
  const snap = await repo.readSnapshot('main', m2.id);
  for (const path of ['f0', 'f2', 'f4']) assert.ok((await readAll(repo.readFile(snap, path))).equals(files[path]!), path);
  const check = await checkRepository(repo, { readData: true, refBudget: BUDGET });
  assert.equal(check.ok, true, JSON.stringify(check.damaged));
  await repo.close();
});

faultTest('damage found through the spill is named with its snapshots and files', async () => {
  const dirPath = fresh();
  const repo = await newPosixRepo(dirPath, { chunkSize: CHUNK, packSize: 16 * 1024, compression: 'none' });
  const s1 = await snapshot(repo, { a: randomData(6 * CHUNK) });
  const s2 = await snapshot(repo, { b: randomData(6 * CHUNK) });
  const snap = await repo.readSnapshot('main', s1.id);
  const victim = (await snap.file('a'))!.chunks[0]!;
  // overwrite the blob's bytes in place: the index still agrees, the data does not
  const path = join(dirPath, packKey(victim.pack));
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(16, 0xee), 0, 16, victim.packOffset + 8);
  closeSync(fd);
  // and lose a pack of the second snapshot altogether (its first: the file list is in its last)
  const lost = (await (await repo.readSnapshot('main', s2.id)).file('b'))!.chunks[0]!.pack;
  writeFileSync(join(dirPath, packKey(lost)), '');
  const check = await checkRepository(repo, { readData: true, refBudget: BUDGET });
  assert.equal(check.ok, false);
  const bad = check.damaged.find((d) => d.object === packKey(victim.pack) && d.offset === victim.packOffset);
  assert.ok(bad, JSON.stringify(check.damaged));
  assert.deepEqual(bad.snapshots, [`main/${s1.id}`]);
  assert.deepEqual(bad.files, ['a']);
  const gonePack = check.damaged.find((d) => d.object === packKey(lost));
  assert.ok(gonePack, JSON.stringify(check.damaged));
  assert.deepEqual(gonePack.snapshots, [`main/${s2.id}`]);
  assert.deepEqual(gonePack.files, ['b']);
  await repo.close();
});

faultTest('TMPDIR full under the sorted references: gc fails naming it and deletes nothing', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to mount a small tmpfs');
  const disks = smallDisks('pgkeep-gc-spill-full-');
  try {
    const small = disks.mount('tmp', '64k');
    const repo = await newPosixRepo(fresh(), { chunkSize: CHUNK, packSize: 1024 * 1024, compression: 'none' });
    // 4000 distinct chunks: ~96 KB of sorted references (24 bytes each), more than 64 KiB
    const kept = await snapshot(repo, { big: randomData(4000 * CHUNK) });
    const dropped = await snapshot(repo, { small: randomData(2 * CHUNK) });
    await repo.deleteSnapshot('main', dropped.id);
    const before = await packIds(repo);
    const tmp = process.env.TMPDIR;
    process.env.TMPDIR = small;
    try {
      await assert.rejects(garbageCollect(repo, { refBudget: 100 }), (e: unknown) => {
        assert.ok(e instanceof PgkeepError, String(e));
        assert.equal(e.code, 'CONFLICT');
        assert.match(e.message, /temporary list of blob references/);
        assert.ok(e.message.includes(small), e.message);
        return true;
      });
    } finally {
      if (tmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmp;
    }
    assert.deepEqual(await packIds(repo), before, 'nothing deleted, not even the unreferenced pack');
    assert.deepEqual(readdirSync(small), [], 'no temporary file is left');
    const report = await garbageCollect(repo, { refBudget: 100 });
    assert.deepEqual(report.deleted.map((p) => p.pack).sort(), dropped.packs);
    assert.ok(kept.packs.every((p) => !report.deleted.some((d) => d.pack === p)));
    await repo.close();
  } finally {
    disks.release();
  }
});
