/**
 * The background pusher's scheduling, on real files (a real repository, a pg_wal with `.ready`
 * files, no server): how many files it keeps in flight, and that no file is acknowledged before
 * its push returned. The push itself is the test's (push.ts has its own tests).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PosixDriver } from '../../repo/storage/posix/index.js';
import { Repository } from '../../repo/index.js';
import { listAcks } from './acks.js';
import { runPusher } from './pusher.js';

const segment = (i: number) => `0000000100000000000000${i.toString(16).toUpperCase().padStart(2, '0')}`;

test('pusher: push_jobs 2 keeps 4 files in flight (2 compressing, 2 being written); none acknowledged before its push returned', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-pusher-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pgWal = join(dir, 'pg_wal');
  const spool = join(dir, 'spool');
  mkdirSync(join(pgWal, 'archive_status'), { recursive: true });
  mkdirSync(spool);
  const files = Array.from({ length: 8 }, (_, i) => segment(i + 1));
  for (const f of files) {
    writeFileSync(join(pgWal, f), f);
    writeFileSync(join(pgWal, 'archive_status', `${f}.ready`), '');
  }
  const repo = await Repository.init(new PosixDriver(join(dir, 'repo')), { kdfCost: { N: 1024, r: 8, p: 1 }, jobs: 1 });

  const started: string[] = [];
  const release: (() => void)[] = [];
  let inFlight = 0;
  let most = 0;
  const push = async (path: string) => {
    const file = path.slice(pgWal.length + 1);
    started.push(file);
    most = Math.max(most, ++inFlight);
    await new Promise<void>((r) => release.push(r));
    assert.ok(!existsSync(join(spool, 'acks', file)), `${file} is not acknowledged before its push returned`);
    inFlight--;
    return { key: `k/${file}`, bytes: 1, status: 'archived' };
  };
  const run = runPusher(repo, {
    cluster: 'main',
    pgWalDir: pgWal,
    spoolDir: spool,
    jobs: 2,
    queueAlertSegments: 100,
    idleMs: 200,
    failingMs: 10_000,
    push,
  });
  const until = async (what: string, ok: () => boolean) => {
    for (let i = 0; !ok(); i++) {
      if (i > 500) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await until('4 files in flight', () => started.length >= 4);
  await new Promise((r) => setTimeout(r, 150)); // several rounds of the pusher: no fifth file while 4 are held
  assert.equal(most, 4, 'four files at once');
  assert.deepEqual(started, files.slice(0, 4), 'the oldest first');
  assert.deepEqual(await listAcks(spool), [], 'nothing acknowledged while every push is held');
  release.shift()!();
  await until('the first acknowledgement', () => existsSync(join(spool, 'acks', files[0]!)));
  await until('a fifth file once one returned', () => started.length === 5);
  while (started.length < files.length || release.length > 0) {
    const r = release.shift();
    if (r) r();
    await new Promise((res) => setTimeout(res, 5));
  }
  const result = await run;
  assert.equal(result.pushed, files.length);
  assert.equal(most, 4, 'never more than four');
  assert.deepEqual((await listAcks(spool)).sort(), files, 'every file acknowledged once stored');
});
