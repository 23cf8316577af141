import { before, after } from 'node:test';
import { faultTest } from '../test-support/faults.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { open, truncate, unlink, readdir, readFile, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PgkeepError } from '../errors.js';
import { Repository } from './repository.js';
import { checkRepository } from './check.js';
import { garbageCollect } from './gc.js';
import { listLocks, breakLock } from './locks.js';
import type { ChunkRef } from './manifest.js';
import { compressibleData, newPosixRepo, tempDir } from './test-utils.js';
import { packKey } from './pack-format.js';

const CHUNK = 4096;
let dir: { path: string; remove(): Promise<void> };
let n = 0;
const fresh = () => join(dir.path, `r${++n}`);

before(async () => {
  dir = await tempDir('pgkeep-faults-');
});
after(async () => {
  await dir.remove();
});

interface Setup {
  path: string;
  repo: Repository;
  data: Buffer;
  id: string;
  chunk: ChunkRef;
}

/** A repository with one snapshot holding "base/1/1259" (8 chunks) and "small". */
async function setup(passphrase?: string): Promise<Setup> {
  const path = fresh();
  const repo = await newPosixRepo(path, { chunkSize: CHUNK, compression: 'zstd:3', passphrase });
  const data = compressibleData(8 * CHUNK, 3);
  const w = await repo.startSnapshot({ cluster: 'main', kind: 'physical' });
  const rec = await w.addFile({ path: 'base/1/1259', type: 'file', mode: 0o600, mtimeMs: 1 }, data);
  await w.addFile({ path: 'small', type: 'file', mode: 0o600, mtimeMs: 1 }, Buffer.from('small file'));
  const m = await w.commit({});
  return { path, repo, data, id: m.id, chunk: rec.chunks[5]! };
}

function packPath(s: Setup, pack: string): string {
  return join(s.path, ...packKey(pack).split('/'));
}

/** Read the file, keeping what was emitted before an error. */
async function readUntilError(s: Setup): Promise<{ got: Buffer; error?: PgkeepError }> {
  const snap = await s.repo.readSnapshot('main', s.id);
  const parts: Buffer[] = [];
  try {
    for await (const c of s.repo.readFile(snap, 'base/1/1259')) parts.push(c as Buffer);
    return { got: Buffer.concat(parts) };
  } catch (e) {
    return { got: Buffer.concat(parts), error: e as PgkeepError };
  }
}

for (const passphrase of [undefined, 'pw']) {
  const label = passphrase ? 'encrypted' : 'not encrypted';

  faultTest(`flipped byte in a pack (${label}): read fails naming pack, offset and file; check --read-data reports it`, async () => {
    const s = await setup(passphrase);
    const fh = await open(packPath(s, s.chunk.pack), 'r+');
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, s.chunk.packOffset + 20);
    b[0]! ^= 0x10;
    await fh.write(b, 0, 1, s.chunk.packOffset + 20);
    await fh.close();

    const { got, error } = await readUntilError(s);
    assert.equal(error?.code, 'DATA_INTEGRITY');
    assert.match(error!.message, new RegExp(`pack ${s.chunk.pack} at offset ${s.chunk.packOffset}`));
    assert.match(error!.message, /base\/1\/1259/);
    assert.ok(got.length <= 5 * CHUNK && s.data.subarray(0, got.length).equals(got), 'only verified data came out');

    assert.equal((await checkRepository(s.repo)).ok, true, 'structure alone does not read data');
    const r = await checkRepository(s.repo, { readData: true });
    assert.equal(r.ok, false);
    assert.equal(r.damaged.length, 1);
    assert.equal(r.damaged[0]!.offset, s.chunk.packOffset);
    assert.deepEqual(r.damaged[0]!.snapshots, [`main/${s.id}`]);
    assert.deepEqual(r.damaged[0]!.files, ['base/1/1259']);
    await s.repo.close();
  });
}

faultTest('truncated pack: read fails and check names the pack and the snapshot', async () => {
  const s = await setup();
  await truncate(packPath(s, s.chunk.pack), s.chunk.packOffset + 3);
  const { got, error } = await readUntilError(s);
  assert.equal(error?.code, 'DATA_INTEGRITY');
  assert.match(error!.message, /truncated|missing|damaged/);
  assert.ok(s.data.subarray(0, got.length).equals(got));
  const r = await checkRepository(s.repo);
  assert.equal(r.ok, false);
  assert.ok(r.damaged.some((d) => d.object === packKey(s.chunk.pack) && d.snapshots.includes(`main/${s.id}`)));
  await s.repo.close();
});

faultTest('missing pack: read fails with the pack named; check reports it as missing', async () => {
  const s = await setup();
  await unlink(packPath(s, s.chunk.pack));
  const { error } = await readUntilError(s);
  assert.equal(error?.code, 'DATA_INTEGRITY');
  assert.match(error!.message, /missing/);
  assert.match(error!.message, new RegExp(s.chunk.pack));
  const r = await checkRepository(s.repo);
  assert.ok(r.damaged.some((d) => d.object === packKey(s.chunk.pack) && /missing/.test(d.problem)));
  await s.repo.close();
});

for (const passphrase of [undefined, 'pw']) {
  faultTest(`damaged manifest (${passphrase ? 'encrypted' : 'not encrypted'}): read, check and gc all refuse it`, async () => {
    const s = await setup(passphrase);
    const mdir = join(s.path, 'snapshots', 'main');
    const [name] = await readdir(mdir);
    const file = join(mdir, name!);
    const body = await readFile(file);
    body[body.length - 40]! ^= 0x01;
    await writeFile(file, body);
    await assert.rejects(s.repo.readSnapshot('main', s.id), (e: PgkeepError) => e.code === 'DATA_INTEGRITY' && e.message.includes(s.id));
    const r = await checkRepository(s.repo);
    assert.equal(r.ok, false);
    assert.deepEqual(r.damaged[0]!.snapshots, [`main/${s.id}`]);
    await assert.rejects(garbageCollect(s.repo), (e: PgkeepError) => e.code === 'DATA_INTEGRITY');
    assert.ok((await readdir(join(s.path, 'packs'))).length > 0, 'gc deleted nothing');
    await s.repo.close();
  });
}

faultTest('a writer killed with SIGKILL mid-write leaves no snapshot, and gc removes its packs', async () => {
  const path = fresh();
  const repo = await newPosixRepo(path, { chunkSize: CHUNK, packSize: 16 * 1024, compression: 'none' });
  const child = join(dir.path, 'writer.mjs');
  const repoModule = fileURLToPath(new URL('./repository.js', import.meta.url));
  const posixModule = fileURLToPath(new URL('./storage/posix/index.js', import.meta.url));
  await writeFile(
    child,
    `
import { randomBytes } from 'node:crypto';
import { Repository } from ${JSON.stringify(repoModule)};
import { PosixDriver } from ${JSON.stringify(posixModule)};
const repo = await Repository.open(new PosixDriver(${JSON.stringify(path)}));
const w = await repo.startSnapshot({ cluster: 'main', kind: 'physical', purpose: 'test writer' });
for (let i = 0; ; i++) {
  await w.addFile({ path: 'f' + i, type: 'file', mode: 0o600, mtimeMs: 1 }, randomBytes(64 * 1024));
  if (i === 10) process.stdout.write('ready\\n');
}
`,
  );
  const proc = spawn(process.execPath, [child], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      if (String(d).includes('ready')) resolve();
    });
    proc.on('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
  });
  proc.kill('SIGKILL');
  await new Promise((r) => proc.once('exit', r));

  assert.deepEqual(await repo.listSnapshotIds('main'), []);
  const before = await checkRepository(repo);
  assert.equal(before.ok, true);
  assert.ok(before.unreferencedPacks > 0, 'the writer had published packs');

  // The dead writer's lock is reported, never stolen: gc refuses until it is broken.
  await assert.rejects(garbageCollect(repo), (e: PgkeepError) => e.code === 'LOCKED');
  const locks = await listLocks(repo.driver);
  assert.equal(locks.length, 1);
  assert.equal(locks[0]!.stale, true);
  assert.equal(locks[0]!.purpose, 'test writer');
  await breakLock(repo.driver, locks[0]!.id);
  const report = await garbageCollect(repo);
  assert.equal(report.deleted.length, before.unreferencedPacks);
  let left = 0;
  for await (const o of repo.driver.list('packs/')) left += o.key ? 1 : 0;
  assert.equal(left, 0);
  await repo.close();
});
