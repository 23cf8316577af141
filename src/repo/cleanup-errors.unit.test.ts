/**
 * A failure while cleaning up (the lock delete, the pack deletes) never hides the failure that made
 * the cleanup run: storage that fails mid-snapshot is reported as the failed write, with the failed
 * lock delete as a note. Real posix repository; the storage faults are real filesystem errors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { mkdirSync, rmSync } from 'node:fs';
import { PgkeepError, toPgkeepError } from '../errors.js';
import { faultTest } from '../test-support/faults.js';
import { withRepoLock } from './with-lock.js';
import { newPosixRepo, randomData, readAll, tempDir } from './test-utils.js';
import { EXCLUSIVE_KEY, SHARED_PREFIX } from './locks.js';
import { garbageCollect } from './gc.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
let n = 0;
before(async () => {
  dir = await tempDir('pgkeep-cleanup-');
});
after(async () => {
  await dir.remove();
});

/** Ids of the shared locks held (files under locks/shared/). */
async function sharedLocks(path: string): Promise<string[]> {
  return readdir(join(path, 'locks', 'shared')).catch(() => []);
}

/** Make deleting the lock object fail (EISDIR): a non-empty directory where the lock file was. */
async function jamLock(path: string, lockId: string): Promise<string> {
  const lockPath = join(path, ...`${SHARED_PREFIX}${lockId}`.split('/'));
  await rm(lockPath);
  await mkdir(join(lockPath, 'jam'), { recursive: true });
  return lockPath;
}

faultTest('storage fails mid-snapshot: the failed write is the error, the failed lock delete a note', async () => {
  const path = join(dir.path, `r${++n}`);
  const repo = await newPosixRepo(path, { chunkSize: 64 * 1024 });
  const w = await repo.startSnapshot({ cluster: 'main', kind: 'physical' });
  const [lockId] = await sharedLocks(path);
  // The outage: packs can no longer be written, and the lock can no longer be deleted.
  await rename(join(path, 'packs'), join(path, 'packs.away')).catch(() => undefined);
  await writeFile(join(path, 'packs'), 'not a directory');
  await jamLock(path, lockId!);
  const err = await w
    .addFile({ path: 'base/1/1', type: 'file', mode: 0o600, mtimeMs: 1 }, randomData(200_000))
    .then(() => w.commit({}))
    .then(
      () => undefined,
      (e: unknown) => toPgkeepError(e),
    );
  assert.ok(err instanceof PgkeepError, 'the snapshot must fail');
  assert.match(err.message, /write|packs\//, `the error is the failed pack write: ${err.message}`);
  assert.doesNotMatch(err.message, /locks\//);
  assert.ok(
    err.notes.some((x) => /^releasing the repository lock [0-9a-f]+ also failed: .*locks\/shared\//.test(x)),
    `notes: ${JSON.stringify(err.notes)}`,
  );
  assert.deepEqual((err.toJSON().error as { notes: string[] }).notes, err.notes);
});

test("withRepoLock: the work's error stays the error when releasing the lock fails too; a failed release alone is thrown", async () => {
  const path = join(dir.path, `r${++n}`);
  const repo = await newPosixRepo(path);
  const work = new PgkeepError('CONNECTION', 'the server went away');
  const thrown = await withRepoLock(repo, 'shared', 'test', 'main', async () => {
    const [id] = await sharedLocks(path);
    await jamLock(path, id!);
    throw work;
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.equal(thrown, work);
  assert.equal(work.notes.length, 1);
  assert.match(work.notes[0]!, /^releasing the repository lock [0-9a-f]+ also failed: /);
  await rm(join(path, 'locks', 'shared'), { recursive: true });
  const alone = await withRepoLock(repo, 'shared', 'test', 'main', async () => {
    const [id] = await sharedLocks(path);
    await jamLock(path, id!);
    return 'done';
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(alone instanceof PgkeepError, 'a failed release after successful work is reported');
});

faultTest(
  'the lock cannot be released after the snapshot was published: the snapshot stands, whole, and the failure is a warning',
  async () => {
    const path = join(dir.path, `r${++n}`);
    const repo = await newPosixRepo(path, { chunkSize: 64 * 1024 });
    const warnings: string[] = [];
    const w = await repo.startSnapshot({ cluster: 'main', kind: 'physical', onWarning: (m) => warnings.push(m) });
    const data = randomData(300_000);
    await w.addFile({ path: 'base/1/1', type: 'file', mode: 0o600, mtimeMs: 1 }, data);
    const [lockId] = await sharedLocks(path);
    const lockPath = await jamLock(path, lockId!);
    const manifest = await w.commit({});
    assert.equal(warnings.length, 1, `one warning: ${JSON.stringify(warnings)}`);
    assert.match(warnings[0]!, new RegExp(`releasing the repository lock ${lockId} failed: .*repo unlock`));
    // The snapshot is there and every byte of it reads back (its packs were not deleted as if it had failed).
    const snap = await repo.readSnapshot('main', manifest.id);
    assert.ok((await readAll(repo.readFile(snap, 'base/1/1'))).equals(data), "the snapshot's data reads back");
    await rm(lockPath, { recursive: true });
  },
);

test('withRepoLock with a warning sink: a failed release after successful work is a warning, the result stands', async () => {
  const path = join(dir.path, `r${++n}`);
  const repo = await newPosixRepo(path);
  const warnings: string[] = [];
  const result = await withRepoLock(
    repo,
    'shared',
    'test',
    'main',
    async () => {
      const [id] = await sharedLocks(path);
      await jamLock(path, id!);
      return 'done';
    },
    (m) => warnings.push(m),
  );
  assert.equal(result, 'done');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /releasing the repository lock [0-9a-f]+ failed: .*stale.*repo unlock/);
});

faultTest('gc cannot release its exclusive lock after it is done: the report stands, with a warning', async () => {
  const path = join(dir.path, `r${++n}`);
  const repo = await newPosixRepo(path, { chunkSize: 64 * 1024 });
  const w = await repo.startSnapshot({ cluster: 'main', kind: 'physical' });
  await w.addFile({ path: 'base/1/1', type: 'file', mode: 0o600, mtimeMs: 1 }, randomData(100_000));
  await w.commit({});
  const lockPath = join(path, ...EXCLUSIVE_KEY.split('/'));
  const report = await garbageCollect(repo, {
    onStep: (m) => {
      if (m !== 'reading manifests') return;
      rmSync(lockPath);
      mkdirSync(join(lockPath, 'jam'), { recursive: true });
    },
  });
  assert.equal(report.snapshots, 1);
  assert.equal(report.warnings.length, 1, `one warning: ${JSON.stringify(report.warnings)}`);
  assert.match(report.warnings[0]!, /releasing the repository lock [0-9a-f]+ failed: .*repo unlock/);
  await rm(lockPath, { recursive: true });
});
