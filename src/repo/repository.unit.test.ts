import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PgkeepError } from '../errors.js';
import { PosixDriver } from './storage/posix/index.js';
import { Repository } from './repository.js';
import { compressibleData, newPosixRepo, randomData, readAll, tempDir, TEST_KDF } from './test-utils.js';

const CHUNK = 4096;
let dir: { path: string; remove(): Promise<void> };
let n = 0;
const fresh = () => join(dir.path, `r${++n}`);

before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.remove();
});

const CODECS = ['none', 'gzip:1', 'lz4', 'zstd:3'];

for (const codec of CODECS) {
  for (const encrypted of [false, true]) {
    test(`round trip: ${codec}, ${encrypted ? 'encrypted' : 'not encrypted'}, random and compressible data`, async () => {
      const path = fresh();
      const repo = await newPosixRepo(path, {
        compression: codec,
        chunkSize: CHUNK,
        packSize: 64 * 1024,
        passphrase: encrypted ? 'pw' : undefined,
      });
      const files = new Map<string, Buffer>([
        ['empty', Buffer.alloc(0)],
        ['one-byte', Buffer.from('x')],
        ['exactly-one-chunk', randomData(CHUNK)],
        ['one-byte-over', randomData(CHUNK + 1)],
        ['random', randomData(150_000)],
        ['text', compressibleData(300_000, 7)],
      ]);
      const w = await repo.startSnapshot({ cluster: 'main', kind: 'physical' });
      // concurrent adds, from a Buffer, a Readable and an async iterable
      const kinds = [
        (b: Buffer) => b,
        (b: Buffer) => Readable.from([b.subarray(0, 5), b.subarray(5)]),
        (b: Buffer) =>
          (async function* () {
            for (let i = 0; i < b.length; i += 777) yield b.subarray(i, i + 777);
          })(),
      ];
      let k = 0;
      await Promise.all(
        [...files].map(([p, b]) => w.addFile({ path: `base/${p}`, type: 'file', mode: 0o600, mtimeMs: 1000 }, kinds[k++ % 3]!(b))),
      );
      await w.addFile({ path: 'base', type: 'directory', mode: 0o700, mtimeMs: 5 });
      await w.addFile({ path: 'pg_tblspc/16384', type: 'symlink', mode: 0o777, mtimeMs: 5, linkTarget: '/srv/ts' });
      const m = await w.commit({ method: 'test', lsn: '0/1000028' });
      assert.equal(m.stats.files, files.size + 2);
      assert.equal(
        m.stats.logicalBytes,
        [...files.values()].reduce((s, b) => s + b.length, 0),
      );
      await repo.close();

      // read back through a newly opened repository (codec comes from the blobs)
      const again = await Repository.open(new PosixDriver(path), { getPassphrase: async () => 'pw', compression: 'none' });
      const snap = await again.readSnapshot('main', 'latest');
      assert.equal(snap.id, m.id);
      assert.deepEqual(snap.meta, { method: 'test', lsn: '0/1000028' });
      const listed = [];
      for await (const r of snap.files()) listed.push(r.path);
      assert.deepEqual(listed, [...listed].sort());
      assert.equal(listed.length, files.size + 2);
      for (const [p, b] of files) {
        const rec = await snap.file(`base/${p}`);
        assert.ok(rec, p);
        assert.equal(rec.size, b.length);
        assert.equal(rec.chunks.length, Math.ceil(b.length / CHUNK));
        assert.ok((await readAll(again.readFile(snap, `base/${p}`))).equals(b), p);
        assert.ok((await readAll(again.readFile(snap, rec))).equals(b), p);
      }
      const link = await snap.file('pg_tblspc/16384');
      assert.equal(link?.type, 'symlink');
      assert.equal(link?.linkTarget, '/srv/ts');
      assert.equal((await snap.file('base'))?.type, 'directory');
      assert.equal(await snap.file('nope'), undefined);
      await again.close();
    });
  }
}

test('a file larger than several packs, and chunk-level reads for delta restore', async () => {
  const repo = await newPosixRepo(fresh(), { compression: 'none', chunkSize: CHUNK, packSize: 20_000 });
  const big = randomData(100_000);
  const w = await repo.startSnapshot({ cluster: 'c1', kind: 'logical' });
  const rec = await w.addFile({ path: 'dump', type: 'file', mode: 0o600, mtimeMs: 1 }, big);
  await w.commit({});
  assert.ok(new Set(rec.chunks.map((c) => c.pack)).size >= 4, 'spans several packs');
  const snap = await repo.readSnapshot('c1', 'latest');
  assert.ok((await readAll(repo.readFile(snap, 'dump'))).equals(big));
  const chunks = repo.readChunks((await snap.file('dump'))!);
  assert.equal(chunks[3]!.offset, 3 * CHUNK);
  assert.ok((await repo.readChunk(chunks[3]!)).equals(big.subarray(3 * CHUNK, 4 * CHUNK)));
  await repo.close();
});

test('incremental: after a small change only the changed chunks are stored', async () => {
  const repo = await newPosixRepo(fresh(), { compression: 'zstd:3', chunkSize: CHUNK });
  const a = randomData(40 * CHUNK);
  const b = randomData(10 * CHUNK);
  const w1 = await repo.startSnapshot({ cluster: 'main', kind: 'physical' });
  await w1.addFile({ path: 'a', type: 'file', mode: 0o600, mtimeMs: 1 }, a);
  await w1.addFile({ path: 'b', type: 'file', mode: 0o600, mtimeMs: 1 }, b);
  const m1 = await w1.commit({});
  assert.equal(m1.stats.newChunks, 50);

  const a2 = Buffer.from(a);
  a2[5 * CHUNK + 10]! ^= 0xff; // one changed chunk
  const grown = Buffer.concat([a2, Buffer.from('tail')]); // and one new chunk at the end
  const prev = await repo.readSnapshot('main', m1.id);
  const w2 = await repo.startSnapshot({ cluster: 'main', kind: 'physical', previous: prev });
  await w2.addFile({ path: 'a', type: 'file', mode: 0o600, mtimeMs: 2 }, grown);
  const prevB = (await w2.previousFile('b'))!;
  w2.reuseFile(prevB);
  const m2 = await w2.commit({});
  assert.equal(m2.previous, m1.id);
  assert.equal(m2.stats.newChunks, 2);
  assert.equal(m2.stats.reusedChunks, 39 + 10);
  assert.equal(m2.stats.reusedFiles, 1);
  assert.ok(m2.stats.storedBytes < 8 * CHUNK, `stored ${m2.stats.storedBytes}`); // 2 chunks + the file list

  const s2 = await repo.readSnapshot('main', 'latest');
  assert.ok((await readAll(repo.readFile(s2, 'a'))).equals(grown));
  assert.ok((await readAll(repo.readFile(s2, 'b'))).equals(b));
  // deleting the first snapshot does not break the second
  await repo.deleteSnapshot('main', m1.id);
  assert.deepEqual(await repo.listSnapshotIds('main'), [m2.id]);
  assert.ok((await readAll(repo.readFile(s2, 'a'))).equals(grown));
  await repo.close();
});

test('snapshot listing, NOT_FOUND with the existing ids, abort leaves nothing', async () => {
  const path = fresh();
  const repo = await newPosixRepo(path, { chunkSize: CHUNK });
  await assert.rejects(repo.readSnapshot('main', 'latest'), (e: PgkeepError) => e.code === 'NOT_FOUND');
  const w = await repo.startSnapshot({ cluster: 'main', kind: 'logical' });
  await w.addFile({ path: 'x', type: 'file', mode: 0o644, mtimeMs: 1 }, Buffer.from('hello'));
  const m = await w.commit({ a: 1 });
  await assert.rejects(
    repo.readSnapshot('main', '20000101T000000Z-0000'),
    (e: PgkeepError) => e.code === 'NOT_FOUND' && e.hint!.includes(m.id),
  );
  assert.deepEqual(await repo.listClusters(), ['main']);
  assert.equal((await repo.listSnapshots('main'))[0]!.id, m.id);
  await assert.rejects(w.addFile({ path: 'late', type: 'file', mode: 0o644, mtimeMs: 1 }, Buffer.from('x')));

  const w2 = await repo.startSnapshot({ cluster: 'main', kind: 'logical' });
  await assert.rejects(
    w2.addFile(
      { path: 'x', type: 'file', mode: 0o644, mtimeMs: 1 },
      (async function* () {
        yield Buffer.alloc(CHUNK * 3);
        throw new Error('source vanished');
      })(),
    ),
    /source vanished/,
  );
  await w2.addFile({ path: 'y', type: 'file', mode: 0o644, mtimeMs: 1 }, randomData(CHUNK * 20));
  await assert.rejects(
    w2.addFile({ path: 'y', type: 'file', mode: 0o644, mtimeMs: 1 }, Buffer.alloc(1)),
    (e: PgkeepError) => e.code === 'CONFLICT',
  );
  await w2.abort();
  assert.deepEqual(await repo.listSnapshotIds('main'), [m.id]);
  await repo.close();
});

test('small objects: put/get/stat/list, ifAbsent, codec suffix and encryption', async () => {
  for (const passphrase of [undefined, 'pw']) {
    const repo = await newPosixRepo(fresh(), { compression: 'zstd:3', passphrase });
    const seg = compressibleData((16 * 1024 * 1024) / 64);
    const name = 'wal/main/7000000000000000001/0000000100000000/000000010000000000000001';
    assert.deepEqual(await repo.putObject(name, seg, { ifAbsent: true }), { created: true, key: `${name}.zst${passphrase ? '.enc' : ''}` });
    assert.equal((await repo.putObject(name, Buffer.from('other'), { ifAbsent: true })).created, false);
    assert.ok((await repo.getObject(name)).equals(seg));
    await repo.putObject('wal/main/7000000000000000001/00000002.history', Buffer.from('1\t0/3000000\tno reason\n'), {
      codec: { name: 'none' },
    });
    const listed = [];
    for await (const o of repo.listObjects('wal/main/')) listed.push(o.name);
    assert.deepEqual(listed, [name, 'wal/main/7000000000000000001/00000002.history']);
    assert.equal((await repo.getObject('wal/main/7000000000000000001/00000002.history')).toString(), '1\t0/3000000\tno reason\n');
    assert.equal((await repo.statObject(name))?.name, name);
    assert.equal(await repo.statObject(`${name}x`), undefined);
    await assert.rejects(repo.getObject('wal/none'), (e: PgkeepError) => e.code === 'NOT_FOUND');
    assert.equal(await repo.deleteObject(name), true);
    assert.equal(await repo.statObject(name), undefined);
    await repo.close();
  }
});

test('init refuses a non-empty location and an existing repository', async () => {
  const path = fresh();
  const repo = await newPosixRepo(path);
  await repo.close();
  await assert.rejects(newPosixRepo(path), (e: PgkeepError) => e.code === 'CONFLICT' && /already a pgkeep repository/.test(e.message));
  const other = fresh();
  await new PosixDriver(other).put('notes.txt', Buffer.from('x'));
  await assert.rejects(newPosixRepo(other), (e: PgkeepError) => e.code === 'CONFLICT' && /not empty/.test(e.message));
  await assert.rejects(Repository.open(new PosixDriver(fresh())), (e: PgkeepError) => e.code === 'REPOSITORY');
});

test('wrong passphrase is PASSPHRASE before anything is read or written; change re-wraps only', async () => {
  const path = fresh();
  const repo = await newPosixRepo(path, { passphrase: 'old pass', chunkSize: CHUNK });
  const w = await repo.startSnapshot({ cluster: 'main', kind: 'logical' });
  await w.addFile({ path: 'f', type: 'file', mode: 0o600, mtimeMs: 1 }, Buffer.from('data'));
  await w.commit({});
  await repo.close();
  const driver = new PosixDriver(path);
  const before = [];
  for await (const o of driver.list('')) before.push(o);
  await assert.rejects(
    Repository.open(driver, { getPassphrase: async () => 'bad pass' }),
    (e: PgkeepError) => e.code === 'PASSPHRASE' && !e.message.includes('bad pass'),
  );
  await assert.rejects(Repository.open(driver), (e: PgkeepError) => e.code === 'PASSPHRASE');

  const r = await Repository.open(driver, { getPassphrase: async () => 'old pass' });
  await r.changePassphrase('new pass', TEST_KDF);
  await assert.rejects(Repository.open(driver, { getPassphrase: async () => 'old pass' }), (e: PgkeepError) => e.code === 'PASSPHRASE');
  const r2 = await Repository.open(driver, { getPassphrase: async () => 'new pass' });
  const snap = await r2.readSnapshot('main', 'latest');
  assert.equal((await readAll(r2.readFile(snap, 'f'))).toString(), 'data');
  const after = [];
  for await (const o of driver.list('')) after.push(o);
  assert.deepEqual(
    after.filter((o) => o.key !== 'pgkeep.json'),
    before.filter((o) => o.key !== 'pgkeep.json'),
  );
  await r.close();
  await r2.close();
});
