/**
 * Repository.writeFile from a posix repository (restore's path): runs of adjacent blobs are read
 * from pack files held open (not through the driver's open-read-close), and the blob workers
 * decode, verify and write them. What each test
 * asserts is the written bytes, or the error that names the damaged blob.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { open, readFile, truncate, unlink } from 'node:fs/promises';
import { faultTest } from '../test-support/faults.js';
import type { PgkeepError } from '../errors.js';
import { Repository } from './repository.js';
import type { FileRecord } from './manifest.js';
import { packKey } from './pack-format.js';
import { openPackFiles } from './pack-file-cache.js';
import { PosixDriver } from './storage/posix/index.js';
import type { ByteRange } from './storage/driver.js';
import { randomData, TEST_KDF, tempDir } from './test-utils.js';

const CHUNK = 4096;
let dir: { path: string; remove(): Promise<void> };
let n = 0;

before(async () => {
  dir = await tempDir('pgkeep-write-file-');
});
after(async () => {
  await dir.remove();
});

/** A posix driver that counts the pack ranges read through it. */
class CountingDriver extends PosixDriver {
  packReads = 0;
  override get(key: string, range?: ByteRange): Promise<Buffer> {
    if (key.startsWith('packs/')) this.packReads++;
    return super.get(key, range);
  }
}

interface Setup {
  path: string;
  driver: CountingDriver;
  repo: Repository;
  data: Buffer;
  record: FileRecord;
  id: string;
}

/** 24 incompressible chunks in packs of about 3 blobs each: every file run crosses pack boundaries. */
async function setup(passphrase?: string): Promise<Setup> {
  const path = join(dir.path, `r${++n}`);
  const init = await Repository.init(new PosixDriver(path), {
    kdfCost: TEST_KDF,
    jobs: 2,
    chunkSize: CHUNK,
    packSize: 3 * CHUNK,
    passphrase,
  });
  const data = randomData(24 * CHUNK - 100);
  const w = await init.startSnapshot({ cluster: 'main', kind: 'physical' });
  const record = await w.addFile({ path: 'base/5/16384', type: 'file', mode: 0o600, mtimeMs: 1 }, data);
  const m = await w.commit({});
  await init.close();
  const driver = new CountingDriver(path);
  const repo = await Repository.open(driver, { jobs: 2, ...(passphrase ? { getPassphrase: async () => passphrase } : {}) });
  return { path, driver, repo, data, record, id: m.id };
}

/** writeFile into a new file: its bytes, or the error. */
async function restoreFile(s: Setup): Promise<{ bytes: Buffer; error?: PgkeepError }> {
  const to = join(s.path, 'restored');
  const fh = await open(to, 'w');
  let error: PgkeepError | undefined;
  try {
    await s.repo.writeFile(await s.repo.readSnapshot('main', s.id), s.record, fh.fd);
  } catch (e) {
    error = e as PgkeepError;
  } finally {
    await fh.close();
  }
  return { bytes: await readFile(to), error };
}

const packPath = (s: Setup, pack: string) => join(s.path, ...packKey(pack).split('/'));

for (const passphrase of [undefined, 'pw']) {
  test(`a file over many packs is written whole from held pack files, none read through the driver (${passphrase ? 'encrypted' : 'plain'})`, async () => {
    const s = await setup(passphrase);
    assert.ok(new Set(s.record.chunks.map((c) => c.pack)).size >= 4, 'the file spans several packs');
    const { bytes, error } = await restoreFile(s);
    assert.equal(error, undefined);
    assert.ok(bytes.equals(s.data), 'the restored bytes are the stored ones');
    assert.equal(s.driver.packReads, 0, 'no pack range was read through the driver (open, read, close each time)');
    await s.repo.close();
  });
}

faultTest('a damaged blob in the middle of a run of adjacent blobs is caught and named (pack, offset, file)', async () => {
  const s = await setup();
  // a blob that is neither the first nor the last of its run in its pack
  const mid = s.record.chunks.find(
    (c, i) => i > 0 && i < s.record.chunks.length - 1 && s.record.chunks[i - 1]!.pack === c.pack && s.record.chunks[i + 1]!.pack === c.pack,
  )!;
  assert.ok(mid, 'a pack holds three adjacent blobs of the file');
  const fh = await open(packPath(s, mid.pack), 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, mid.packOffset + 40);
  b[0]! ^= 0x01;
  await fh.write(b, 0, 1, mid.packOffset + 40);
  await fh.close();
  const { bytes, error } = await restoreFile(s);
  assert.equal(error?.code, 'DATA_INTEGRITY');
  assert.match(error!.message, new RegExp(`pack ${mid.pack} at offset ${mid.packOffset}\\b`));
  assert.match(error!.message, /base\/5\/16384/);
  const damaged = bytes.subarray(mid.offset, mid.offset + mid.size);
  assert.ok(damaged.length < mid.size || damaged.every((x) => x === 0), 'nothing of the run that failed its check was written');
  await s.repo.close();
});

faultTest('a missing pack: the held-file read gives way to the driver, which names the pack as missing', async () => {
  const s = await setup();
  const c = s.record.chunks[10]!;
  await unlink(packPath(s, c.pack));
  const { error } = await restoreFile(s);
  assert.equal(error?.code, 'DATA_INTEGRITY');
  assert.match(error!.message, new RegExp(`pack ${c.pack} .*the pack is missing`));
  await s.repo.close();
});

faultTest('a truncated pack: the held-file read gives way to the driver, which names the pack as truncated', async () => {
  const s = await setup();
  const c = s.record.chunks[10]!;
  await truncate(packPath(s, c.pack), c.packOffset + 5);
  const { error } = await restoreFile(s);
  assert.equal(error?.code, 'DATA_INTEGRITY');
  assert.match(error!.message, new RegExp(`pack ${c.pack} .*the pack is truncated`));
  await s.repo.close();
});

test('pack files held open for reads are closed once unused, after the repository is closed too', async () => {
  const s = await setup();
  assert.ok((await restoreFile(s)).bytes.equals(s.data));
  await s.repo.close();
  const until = Date.now() + 10_000;
  while (openPackFiles() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  assert.equal(openPackFiles(), 0, 'no pack descriptor is left open (a pack gc deletes would keep its space)');
});
