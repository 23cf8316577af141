/**
 * Temporary files of killed writers: reported by repo check and repo info (count, bytes, age),
 * removed by gc once nothing has written to them for an hour; a fresh one (a writer that may
 * still run, e.g. a lockless wal push) is never touched.
 */
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { garbageCollect } from './gc.js';
import { checkRepository } from './check.js';
import { repositoryInfo } from './info.js';
import { newPosixRepo, randomData, tempDir } from './test-utils.js';
import { TEMP_PREFIX } from './storage/keys.js';
import { faultTest } from '../test-support/faults.js';

let dir: { path: string; remove(): Promise<void> };

before(async () => {
  dir = await tempDir('pgkeep-temp-files-');
});
after(async () => {
  await dir.remove();
});

const ATOMIC = fileURLToPath(new URL('./storage/posix/atomic-file.js', import.meta.url));

/** A writer that opens a temp file next to `finalPath`, writes 1 MiB, says so, and waits to be killed. */
function startWriter(finalPath: string): Promise<{ kill(): Promise<void> }> {
  const script = `
    const { openTemp } = await import(${JSON.stringify(ATOMIC)});
    const t = await openTemp(${JSON.stringify(finalPath)});
    await t.handle.write(Buffer.alloc(1024 * 1024, 7));
    process.stdout.write('written\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error('the writer did not start within 20 s')), 20_000);
    child.stdout.on('data', () => {
      clearTimeout(timer);
      res({
        kill: () =>
          new Promise((done) => {
            child.on('exit', () => done());
            child.kill('SIGKILL');
          }),
      });
    });
  });
}

const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000);

faultTest('temp files of killed writers: reported by check and info, removed by gc once an hour old, fresh ones kept', async () => {
  const root = join(dir.path, 'repo');
  const repo = await newPosixRepo(root, { compression: 'none' });
  const w = await repo.startSnapshot({ cluster: 'main', kind: 'physical' });
  await w.addFile({ path: 'a', type: 'file', mode: 0o600, mtimeMs: 1 }, randomData(100_000));
  await w.commit({});

  // A writer killed with SIGKILL in the middle of writing a pack.
  const writer = await startWriter(join(root, 'packs', 'ab', 'abababababababababababababababab'));
  await writer.kill();
  const killed = readdirSync(join(root, 'packs', 'ab')).filter((f) => f.startsWith(TEMP_PREFIX));
  assert.equal(killed.length, 1, 'the killed writer left its temp file');
  // An old one in the WAL area (a killed wal push), and a fresh one (a push that may be running).
  const walDir = join(root, 'wal', 'main', '42', '0000000100000000');
  mkdirSync(walDir, { recursive: true });
  const old = join(walDir, `${TEMP_PREFIX}old`);
  const fresh = join(walDir, `${TEMP_PREFIX}fresh`);
  writeFileSync(old, Buffer.alloc(25_000));
  writeFileSync(fresh, Buffer.alloc(1000));
  utimesSync(old, hoursAgo(3), hoursAgo(3));

  const check = await checkRepository(repo);
  assert.equal(check.ok, true, 'temp files are not damage');
  assert.deepEqual(
    { ...check.tempFiles, oldestAgeSeconds: check.tempFiles.oldestAgeSeconds >= 3 * 3600 - 5 },
    { count: 3, bytes: 1024 * 1024 + 26_000, oldestAgeSeconds: true, removable: 1 },
  );
  const info = await repositoryInfo(repo);
  assert.equal(info.tempFiles.count, 3);
  assert.equal(info.tempFiles.bytes, 1024 * 1024 + 26_000);

  const dry = await garbageCollect(repo, { dryRun: true });
  assert.deepEqual(dry.tempFiles, { removed: 1, bytes: 25_000, kept: 2 });
  assert.ok(existsSync(old), 'a dry run removes nothing');

  const gc = await garbageCollect(repo);
  assert.deepEqual(gc.tempFiles, { removed: 1, bytes: 25_000, kept: 2 }, 'the killed pack writer is too recent yet');
  assert.equal(existsSync(old), false);
  assert.ok(existsSync(fresh));

  // An hour later nothing has written to the killed writer's file: the next gc removes it.
  const killedPath = join(root, 'packs', 'ab', killed[0]!);
  utimesSync(killedPath, hoursAgo(1.1), hoursAgo(1.1));
  const later = await garbageCollect(repo);
  assert.deepEqual(later.tempFiles, { removed: 1, bytes: 1024 * 1024, kept: 1 });
  assert.equal(existsSync(killedPath), false);
  assert.ok(existsSync(fresh), 'a temp file written to within the hour is never removed');
  assert.equal((await checkRepository(repo, { readData: true })).ok, true);
  await repo.close();
});
