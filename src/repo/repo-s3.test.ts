// Round trips of the repository engine on a real S3 (Ceph RGW started by the test), for every
// codec with and without encryption. Skipped when PGKEEP_TEST_S3=skip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { storageFixtures, testedStorageKinds } from '../test-support/storage-fixtures.js';
import { Repository } from './repository.js';
import { checkRepository } from './check.js';
import { garbageCollect } from './gc.js';
import { compressibleData, randomData, readAll, TEST_KDF } from './test-utils.js';
import { PgkeepError } from '../errors.js';
import { acquireLock, listLocks } from './locks.js';
import { repositoryInfo } from './info.js';
import { drillObjectName, readDrillRecords, walObjectName } from '../holdings/index.js';
import { listSegmentTimes } from '../dashboard/wal-times.js';

const s3 = testedStorageKinds().includes('s3');
const fx = storageFixtures();

before(
  async () => {
    if (s3) await fx.ready('s3');
  },
  { timeout: 300_000 },
);
after(async () => {
  await fx.stop();
});

const CHUNK = 16 * 1024;

for (const codec of ['none', 'gzip', 'lz4', 'zstd:3']) {
  for (const encrypted of [false, true]) {
    test(`S3 round trip: ${codec}, ${encrypted ? 'encrypted' : 'not encrypted'}`, { skip: !s3 && 'PGKEEP_TEST_S3=skip' }, async () => {
      const driver = await fx.open('s3');
      const passphrase = encrypted ? 's3 secret' : undefined;
      const repo = await Repository.init(driver, {
        compression: codec,
        chunkSize: CHUNK,
        packSize: 30_000,
        passphrase,
        kdfCost: TEST_KDF,
        jobs: 2,
      });
      const files = new Map([
        ['empty', Buffer.alloc(0)],
        ['one-chunk', randomData(CHUNK)],
        ['one-over', randomData(CHUNK + 1)],
        ['text', compressibleData(400_000, 5)],
      ]);
      const w = await repo.startSnapshot({ cluster: 'main', kind: 'physical' });
      await Promise.all([...files].map(([p, b]) => w.addFile({ path: p, type: 'file', mode: 0o600, mtimeMs: 1 }, b)));
      const m = await w.commit({ where: 's3' });
      await repo.putObject('clusters/main/round-trip-object', files.get('text')!, { ifAbsent: true });
      await repo.close();

      const again = await Repository.open(driver, { getPassphrase: async () => passphrase ?? '' });
      const snap = await again.readSnapshot('main', 'latest');
      assert.equal(snap.id, m.id);
      for (const [p, b] of files) assert.ok((await readAll(again.readFile(snap, p))).equals(b), p);
      assert.ok((await again.getObject('clusters/main/round-trip-object')).equals(files.get('text')!));
      const report = await checkRepository(again, { readData: true });
      assert.equal(report.ok, true, JSON.stringify(report.damaged));
      assert.ok(report.packs >= 2, 'several packs');
      await again.deleteSnapshot('main', m.id);
      const gc = await garbageCollect(again);
      assert.equal(gc.deleted.length, report.packs);
      if (encrypted) {
        await assert.rejects(Repository.open(driver, { getPassphrase: async () => 'wrong' }), (e: PgkeepError) => e.code === 'PASSPHRASE');
      }
      await again.close();
    });
  }
}

test('S3 after an interrupt: requests in flight end at once, the lock is still released', {
  skip: !s3 && 'PGKEEP_TEST_S3=skip',
}, async () => {
  const interrupt = new AbortController();
  const driver = await fx.open('s3', { signal: interrupt.signal });
  const lock = await acquireLock(driver, { kind: 'shared', purpose: 'test backup' });
  await driver.put('big', randomData(8 << 20));
  const inFlight = driver.get('big');
  interrupt.abort(new PgkeepError('INTERRUPTED', 'interrupted by SIGTERM'));
  await assert.rejects(inFlight, (e: PgkeepError) => e.code === 'INTERRUPTED');
  const began = Date.now();
  await lock.release(); // the command's cleanup still reaches S3 (bounded)
  assert.ok(Date.now() - began < 3_500);
  const other = await fx.open('s3');
  assert.deepEqual(await listLocks(other), []);
  await other.close();
});

test('S3: what the dashboard reads (drill records, archive times of segments, repo info) comes through the repository API', {
  skip: !s3 && 'PGKEEP_TEST_S3=skip',
}, async () => {
  const driver = await fx.open('s3');
  const repo = await Repository.init(driver, { chunkSize: CHUNK, kdfCost: TEST_KDF, jobs: 2 });
  const sys = '7000000000000000001';
  const t0 = Date.now();
  for (const n of [2, 3, 5]) await repo.putObject(walObjectName('main', sys, `00000001000000000000000${n}`), randomData(100));
  const drill = {
    format: 1,
    id: 'd1',
    cluster: 'main',
    startedAt: new Date(t0).toISOString(),
    finishedAt: new Date(t0).toISOString(),
    ok: true,
    target: { kind: 'latest' },
    rtoSeconds: 42,
    phases: [],
    checks: [],
    host: 'h',
    pgkeepVersion: '0',
  };
  await repo.putObject(drillObjectName('main', 'd1'), Buffer.from(JSON.stringify(drill)));
  await repo.putObject(drillObjectName('main', 'd2'), Buffer.from('not json'));
  const times = await listSegmentTimes(repo, 'main');
  assert.deepEqual(
    times.map((s) => s.name),
    ['000000010000000000000002', '000000010000000000000003', '000000010000000000000005'],
  );
  for (const s of times)
    assert.ok(Math.abs(s.ms - t0) < 5 * 60_000, `archive time of ${s.name} is about now (${new Date(s.ms).toISOString()})`);
  const { records, damaged } = await readDrillRecords(repo, 'main');
  assert.deepEqual([records.map((r) => r.rtoSeconds), damaged.map((d) => d.object)], [[42], ['drills/main/d2.json']]);
  const info = await repositoryInfo(repo);
  assert.equal(info.objects >= 5, true, `${info.objects} objects`);
  await repo.close();
});
