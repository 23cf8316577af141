/**
 * Small files written in batches (Repository.writeFileBatch, restore's path for small files):
 * files stored side by side are gathered while they fit one read of their pack, and each is
 * written byte for byte; a damaged blob inside a batch is named (pack, offset, file) and neither
 * its file nor any later file of the batch receives a byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { open, readFile } from 'node:fs/promises';
import { faultTest } from '../test-support/faults.js';
import type { PgkeepError } from '../errors.js';
import { Repository } from './repository.js';
import { FileBatch } from './file-batch.js';
import type { FileRecord } from './manifest.js';
import { packKey } from './pack-format.js';
import { PosixDriver } from './storage/posix/index.js';
import { randomData, TEST_KDF, tempPaths } from './test-utils.js';

const CHUNK = 4096;
const newPath = tempPaths('pgkeep-file-batch-');

interface Setup {
  path: string;
  repo: Repository;
  snapshotId: string;
  files: { record: FileRecord; data: Buffer }[];
}

/** 40 small incompressible files (1 byte to 3 chunks, two with the same content) in packs of ~64 KiB. */
async function setup(passphrase?: string): Promise<Setup> {
  const path = newPath();
  const init = await Repository.init(new PosixDriver(path), {
    kdfCost: TEST_KDF,
    jobs: 2,
    chunkSize: CHUNK,
    packSize: 64 * 1024,
    passphrase,
  });
  const w = await init.startSnapshot({ cluster: 'main', kind: 'physical' });
  const same = randomData(CHUNK + 17);
  for (let i = 0; i < 40; i++) {
    const data = i === 7 || i === 21 ? same : randomData(i % 5 === 0 ? 1 : (i * 997) % (3 * CHUNK));
    await w.addFile({ path: `base/5/${1000 + i}`, type: 'file', mode: 0o600, mtimeMs: 1 }, data);
  }
  const m = await w.commit({});
  await init.close();
  const repo = await Repository.open(new PosixDriver(path), { jobs: 2, ...(passphrase ? { getPassphrase: async () => passphrase } : {}) });
  const files: Setup['files'] = [];
  for await (const record of (await repo.readSnapshot('main', m.id)).files()) {
    if (record.size > 0) files.push({ record, data: Buffer.alloc(0) });
  }
  return { path, repo, snapshotId: m.id, files };
}

/** The files in path order, cut into batches greedily (as restore does). */
function batches(records: FileRecord[]): FileBatch[] {
  const out: FileBatch[] = [];
  for (const r of records) {
    if (out.length === 0 || !out[out.length - 1]!.add(r)) {
      const b = new FileBatch();
      assert.ok(b.add(r), `${r.path} can start a batch`);
      out.push(b);
    }
  }
  return out;
}

/** Write every batch into new files under `to`; the first error, and what each file holds. */
async function writeAll(s: Setup, bs: FileBatch[], to: string): Promise<{ error?: PgkeepError; bytes: Map<string, Buffer> }> {
  const snapshot = await s.repo.readSnapshot('main', s.snapshotId);
  let error: PgkeepError | undefined;
  const bytes = new Map<string, Buffer>();
  for (const b of bs) {
    const handles = await Promise.all(b.records.map((r) => open(join(to, r.path.replaceAll('/', '_')), 'w')));
    try {
      if (!error)
        await s.repo.writeFileBatch(
          snapshot,
          b,
          handles.map((h) => h.fd),
        );
    } catch (e) {
      error = e as PgkeepError;
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
    for (const r of b.records) bytes.set(r.path, await readFile(join(to, r.path.replaceAll('/', '_'))));
  }
  return { error, bytes };
}

/** The stored content of each file, read back through the stream reader. */
async function expected(s: Setup): Promise<Map<string, Buffer>> {
  const snapshot = await s.repo.readSnapshot('main', s.snapshotId);
  const out = new Map<string, Buffer>();
  for (const { record } of s.files) {
    const parts: Buffer[] = [];
    for await (const p of s.repo.readFile(snapshot, record)) parts.push(p as Buffer);
    out.set(record.path, Buffer.concat(parts));
  }
  return out;
}

for (const passphrase of [undefined, 'pw']) {
  test(`small files stored side by side are written in a few batches, byte for byte (${passphrase ? 'encrypted' : 'plain'})`, async () => {
    const s = await setup(passphrase);
    const bs = batches(s.files.map((f) => f.record));
    assert.ok(new Set(s.files.map((f) => f.record.chunks[0]!.pack)).size >= 2, 'the files span several packs');
    assert.ok(bs.length < s.files.length / 4, `${s.files.length} files in ${bs.length} batches`);
    assert.ok(
      bs.every((b) => new Set(b.records.map((r) => r.chunks[0]!.pack)).size === 1),
      'a batch never mixes packs',
    );
    const { error, bytes } = await writeAll(s, bs, s.path);
    assert.equal(error, undefined);
    const want = await expected(s);
    for (const [path, data] of want) assert.ok(bytes.get(path)!.equals(data), `${path} restored byte for byte`);
    await s.repo.close();
  });
}

faultTest('a damaged blob inside a batch is named (pack, offset, file); its file and the later ones get no byte', async () => {
  const s = await setup();
  const bs = batches(s.files.map((f) => f.record));
  const b = bs.find((x) => x.size >= 5)!;
  assert.ok(b, 'a batch of at least 5 files');
  const victim = b.records[2]!;
  const c = victim.chunks[victim.chunks.length - 1]!;
  const fh = await open(join(s.path, ...packKey(c.pack).split('/')), 'r+');
  const one = Buffer.alloc(1);
  await fh.read(one, 0, 1, c.packOffset + Math.floor(c.length / 2));
  one[0]! ^= 0x40;
  await fh.write(one, 0, 1, c.packOffset + Math.floor(c.length / 2));
  await fh.close();
  const want = await expected({ ...s, files: s.files.filter((f) => b.records.slice(0, 2).includes(f.record)) });
  const { error, bytes } = await writeAll(s, [b], s.path);
  assert.equal(error?.code, 'DATA_INTEGRITY');
  assert.match(error!.message, new RegExp(`pack ${c.pack} at offset ${c.packOffset}\\b`));
  assert.match(error!.message, new RegExp(victim.path.replaceAll('/', '\\/')));
  for (const r of b.records.slice(0, 2)) assert.ok(bytes.get(r.path)!.equals(want.get(r.path)!), `${r.path} (before) written, verified`);
  for (const r of b.records.slice(2)) assert.equal(bytes.get(r.path)!.length, 0, `${r.path} (the damaged one and after) not written`);
  await s.repo.close();
});

test('a file whose chunks are in two packs, or too big, does not join a batch', () => {
  const chunk = (pack: string, packOffset: number, offset: number) => ({ pack, packOffset, offset, size: 10, length: 12, sha256: 'x' });
  const rec = (path: string, chunks: ReturnType<typeof chunk>[], size = chunks.length * 10) =>
    ({ path, type: 'file', mode: 0o600, mtimeMs: 1, size, chunks }) as FileRecord;
  const b = new FileBatch();
  assert.ok(b.add(rec('a', [chunk('p1', 0, 0)])));
  assert.ok(!b.add(rec('b', [chunk('p1', 12, 0), chunk('p2', 0, 10)])), 'two packs');
  assert.ok(!b.add(rec('c', [chunk('p2', 0, 0)])), 'another pack');
  assert.ok(!b.add(rec('d', [chunk('p1', 24, 0)], 300 * 1024)), 'too big');
  assert.ok(!b.add(rec('e', [chunk('p1', 2 * 1024 * 1024, 0)])), 'too far from the batch in its pack');
  assert.ok(b.add(rec('f', [chunk('p1', 24, 0)])));
  assert.deepEqual(b.place, { pack: 'p1', offset: 0, length: 36 });
});
