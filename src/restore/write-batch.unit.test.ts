/**
 * The "write files" step with small files in batches: a data directory of many small files, a
 * few empty ones and one big file is written byte for byte, with each file's mode and mtime, by
 * far fewer blob-worker tasks than files (one task per file before: a range read, a task and its
 * reply for each small file); a damaged blob in the middle of the small files stops the restore
 * naming its pack and file, and that file holds no byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { open, readFile, stat } from 'node:fs/promises';
import { faultTest } from '../test-support/faults.js';
import { largestFirstByPath, Repository, withoutChunks, type FileRecord } from '../repo/index.js';
import { PosixDriver } from '../repo/storage/posix/index.js';
import { compressibleData, randomData, TEST_KDF, tempPaths } from '../repo/test-utils.js';
import { OwnerResolver } from './ownership.js';
import { planRestore } from './plan.js';
import { newRestoreStats } from './stats.js';
import type { RestoreStats } from './types.js';
import { createDirectories, writeFiles } from './write-files.js';

const newPath = tempPaths('pgkeep-write-batch-');

/** A snapshot of 3 directories x 30 small files (some empty), plus one 600 KiB file; its content by path. */
async function setup(): Promise<{ path: string; id: string; content: Map<string, Buffer> }> {
  const path = newPath();
  const repo = await Repository.init(new PosixDriver(path), { kdfCost: TEST_KDF, jobs: 2, chunkSize: 16 * 1024, packSize: 256 * 1024 });
  const w = await repo.startSnapshot({ cluster: 'main', kind: 'physical' });
  const content = new Map<string, Buffer>();
  const add = async (p: string, data: Buffer, i: number) => {
    await w.addFile({ path: p, type: 'file', mode: i % 2 ? 0o600 : 0o640, mtimeMs: 1_600_000_000_000 + i * 1000 }, data);
    content.set(p, data);
  };
  for (const d of ['base', 'base/1', 'base/5']) await w.addFile({ path: d, type: 'directory', mode: 0o700, mtimeMs: 1 });
  const files: { path: string; size: number; data: Buffer; i: number }[] = [];
  let i = 0;
  for (const d of ['base/1', 'base/5']) {
    for (let k = 0; k < 30; k++, i++) {
      const size = k % 10 === 9 ? 0 : 1 + ((k * 7919) % 40_000);
      files.push({ path: `${d}/${2000 + k}`, size, data: k % 3 ? randomData(size) : compressibleData(size, k), i });
    }
  }
  files.push({ path: 'base/5/big', size: 600 * 1024, data: randomData(600 * 1024), i });
  // in the order a backup stores them (backup/, the same order restore's plan lists them)
  for (const f of files.sort(largestFirstByPath)) await add(f.path, f.data, f.i);
  const m = await w.commit({});
  await repo.close();
  return { path, id: m.id, content };
}

/** Restore the snapshot with writeFiles into `to`; the blob-worker tasks it took, and the error. */
async function restore(s: { path: string; id: string }, to: string): Promise<{ tasks: number; error?: Error; st: RestoreStats }> {
  const repo = await Repository.open(new PosixDriver(s.path), { jobs: 2 });
  const snapshot = await repo.readSnapshot('main', s.id);
  const records: FileRecord[] = [];
  for await (const r of snapshot.files()) records.push(withoutChunks(r));
  const plan = planRestore(to, records, []);
  const pool = repo.pool();
  const run = pool.run.bind(pool);
  let tasks = 0;
  pool.run = (task, transfer) => {
    if (task.op === 'decodeToFile') tasks++;
    return run(task, transfer);
  };
  const st = newRestoreStats();
  const c = {
    repo,
    snapshot,
    plan,
    owners: new OwnerResolver(false),
    delta: false,
    jobs: 2,
    sync: true,
    stats: st,
    onBytes: () => undefined,
    onFileDone: () => undefined,
  };
  let error: Error | undefined;
  try {
    await createDirectories(c);
    await writeFiles(c);
  } catch (e) {
    error = e as Error;
  } finally {
    await repo.close();
  }
  return { tasks, error, st };
}

test('many small files are written in batches: byte for byte, mode and mtime, far fewer worker tasks than files', async () => {
  const s = await setup();
  const to = join(s.path, 'restored');
  const { tasks, error, st } = await restore(s, to);
  assert.equal(error, undefined);
  const files = [...s.content.keys()];
  for (const p of files) {
    const local = join(to, p);
    assert.ok((await readFile(local)).equals(s.content.get(p)!), `${p} restored byte for byte`);
  }
  const mode = (await stat(join(to, 'base/1/2001'))).mode & 0o777;
  assert.equal(mode, 0o600);
  assert.equal((await stat(join(to, 'base/1/2000'))).mode & 0o777, 0o640);
  assert.equal((await stat(join(to, 'base/5/2003'))).mtimeMs, 1_600_000_000_000 + 33 * 1000);
  assert.equal(st.filesWritten, files.length);
  assert.equal(
    st.bytesWritten,
    [...s.content.values()].reduce((a, b) => a + b.length, 0),
  );
  const nonEmpty = [...s.content.values()].filter((b) => b.length > 0).length;
  assert.ok(tasks <= nonEmpty / 4, `${nonEmpty} non-empty files written by ${tasks} worker tasks`);
});

faultTest('a damaged blob among the small files stops the restore, naming pack and file; that file holds no byte', async () => {
  const s = await setup();
  const repo = await Repository.open(new PosixDriver(s.path), { jobs: 2 });
  const victim = (await (await repo.readSnapshot('main', s.id)).file('base/5/2004'))!;
  await repo.close();
  const c = victim.chunks[0]!;
  const fh = await open(join(s.path, 'packs', c.pack.slice(0, 2), c.pack), 'r+');
  const one = Buffer.alloc(1);
  await fh.read(one, 0, 1, c.packOffset + Math.floor(c.length / 2));
  one[0]! ^= 0x08;
  await fh.write(one, 0, 1, c.packOffset + Math.floor(c.length / 2));
  await fh.close();
  const to = join(s.path, 'restored');
  const { error } = await restore(s, to);
  assert.equal((error as { code?: string } | undefined)?.code, 'DATA_INTEGRITY');
  assert.match(error!.message, new RegExp(`pack ${c.pack} at offset ${c.packOffset}\\b`));
  assert.match(error!.message, /base\/5\/2004/);
  const written = await readFile(join(to, 'base/5/2004')).catch(() => Buffer.alloc(0));
  assert.equal(written.length, 0, 'the damaged file holds no byte');
});
