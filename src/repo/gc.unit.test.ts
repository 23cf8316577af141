import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Repository } from './repository.js';
import { garbageCollect } from './gc.js';
import { checkRepository } from './check.js';
import { newPosixRepo, packIds, randomData, readAll, tempDir } from './test-utils.js';

const CHUNK = 4096;
let dir: { path: string; remove(): Promise<void> };
let n = 0;
const fresh = () => join(dir.path, `r${++n}`);

before(async () => {
  dir = await tempDir('pgkeep-gc-');
});
after(async () => {
  await dir.remove();
});

const entry = (path: string) => ({ path, type: 'file' as const, mode: 0o600, mtimeMs: 1 });

for (const passphrase of [undefined, 'pw']) {
  test(`gc deletes unreferenced packs and keeps referenced ones (${passphrase ? 'encrypted' : 'plain'})`, async () => {
    const repo = await newPosixRepo(fresh(), { chunkSize: CHUNK, packSize: 1024 * 1024, compression: 'none', passphrase });
    const a = randomData(10 * CHUNK);
    const b = randomData(10 * CHUNK);
    const w1 = await repo.startSnapshot({ cluster: 'main', kind: 'physical' });
    await w1.addFile(entry('a'), a);
    const m1 = await w1.commit({});
    const afterFirst = await packIds(repo);
    const w2 = await repo.startSnapshot({ cluster: 'main', kind: 'physical' });
    await w2.addFile(entry('b'), b);
    const m2 = await w2.commit({});
    const all = await packIds(repo);
    assert.equal(all.length, 2);

    const none = await garbageCollect(repo);
    assert.equal(none.deleted.length + none.repacked.length, 0);
    assert.deepEqual(await packIds(repo), all);

    await repo.deleteSnapshot('main', m1.id);
    const dry = await garbageCollect(repo, { dryRun: true });
    assert.deepEqual(
      dry.deleted.map((p) => p.pack),
      afterFirst,
    );
    assert.ok(dry.bytesFreed >= a.length);
    assert.deepEqual(await packIds(repo), all, 'dry run deletes nothing');

    const real = await garbageCollect(repo);
    assert.deepEqual(
      real.deleted.map((p) => p.pack),
      afterFirst,
    );
    assert.deepEqual(
      await packIds(repo),
      all.filter((p) => !afterFirst.includes(p)),
    );
    const s2 = await repo.readSnapshot('main', m2.id);
    assert.ok((await readAll(repo.readFile(s2, 'b'))).equals(b));
    assert.equal((await checkRepository(repo, { readData: true })).ok, true);
    await repo.close();
  });
}

test('gc repacks a mostly-unreferenced pack and rewrites the manifests that use it', async () => {
  const repo = await newPosixRepo(fresh(), { chunkSize: CHUNK, packSize: 4 * 1024 * 1024, compression: 'none' });
  const big = randomData(20 * CHUNK);
  const keep = randomData(CHUNK + 100);
  const w1 = await repo.startSnapshot({ cluster: 'main', kind: 'physical' });
  await w1.addFile(entry('big'), big);
  await w1.addFile(entry('keep'), keep);
  const m1 = await w1.commit({});
  const prev = await repo.readSnapshot('main', m1.id);
  const w2 = await repo.startSnapshot({ cluster: 'main', kind: 'physical', previous: prev });
  w2.reuseFile((await w2.previousFile('keep'))!);
  const m2 = await w2.commit({});
  assert.equal(m2.stats.newChunks, 0);
  const [p1, p2] = await Promise.all([
    repo.readSnapshot('main', m1.id).then((x) => x.manifest.parts[0]!.locator.pack),
    repo.readSnapshot('main', m2.id).then((x) => x.manifest.parts[0]!.locator.pack),
  ]);
  assert.deepEqual(await packIds(repo), [p1, p2].sort(), 'one pack per snapshot (the second holds only its file list)');

  await repo.deleteSnapshot('main', m1.id);
  const report = await garbageCollect(repo);
  assert.deepEqual(
    report.repacked.map((p) => p.pack),
    [p1],
  );
  assert.equal(report.manifestsRewritten, 1);
  const after = await packIds(repo);
  assert.ok(!after.includes(p1));
  const s2 = await repo.readSnapshot('main', m2.id);
  const rec = (await s2.file('keep'))!;
  assert.ok(rec.chunks.every((c) => c.pack !== p1 && after.includes(c.pack)));
  assert.ok((await readAll(repo.readFile(s2, 'keep'))).equals(keep));
  const check = await checkRepository(repo, { readData: true });
  assert.equal(check.ok, true, JSON.stringify(check.damaged));
  assert.equal(check.unreferencedPacks, 1, 'the old file list of snapshot 2');
  // the next gc removes the pack that held the old file list
  const again = await garbageCollect(repo);
  assert.deepEqual(
    again.deleted.map((p) => p.pack),
    [p2],
  );
  assert.ok((await readAll(repo.readFile(await repo.readSnapshot('main', m2.id), 'keep'))).equals(keep));
  await repo.close();
});
