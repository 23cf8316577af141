/**
 * What `restore --delta` may delete. One archiving source cluster and one stream backup:
 *
 * - --delta into a directory that is not a data directory of this cluster (a home directory,
 *   another system's data directory) is refused and every file is still there; --to "" is USAGE
 *   (run from a throwaway current directory: before the fix it was rewritten);
 * - last, the worst day: the archiver fails after the backup, rows are committed into a segment
 *   that never reaches the archive (.ready) and into the current one, the postmaster is killed
 *   (kill -9), and `restore --delta` over that crashed primary keeps the unarchived WAL (in pg_wal,
 *   where archive recovery replays it, and copied beside the data directory): no row is lost.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser } from '../pg/server-user.js';
import type { Repository } from '../repo/index.js';
import { backup } from '../backup/index.js';
import { faultTest } from '../test-support/faults.js';
import { archivingSource, rejectsWithCode, switchAndWait } from '../test-support/archiving-source.js';
import { restore, type RestoreOptions } from './index.js';
import { listTree } from './test-compare.js';

const CLI = resolve('bin/pgkeep.js');
let work: string;
let repoDir: string;
let repo: Repository;
let src: LocalCluster;
let backupId: string;

function opts(to: string, extra: Partial<RestoreOptions> = {}): RestoreOptions {
  return { repo, cluster: 'test', id: backupId, to, jobs: 2, access: { repo: repoDir, cluster: 'test' }, archiveMode: 'off', ...extra };
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pgkeep-delta-safety-'));
  ({ repoDir, repo, src } = await archivingSource(work, 1000));
  const b = await backup({ repo, clusterName: 'test', cluster: src.connectionSettings(), method: 'stream', jobs: 2 });
  backupId = b.snapshotId;
  chownTreeToServerUser(repoDir);
  await switchAndWait(src);
});

after(async () => {
  await repo?.close();
  await src?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('--delta into a directory that is not a data directory is refused, and every file is still there', async () => {
  const home = join(work, 'home');
  mkdirSync(join(home, 'Documents'), { recursive: true });
  writeFileSync(join(home, '.bashrc'), 'alias ll="ls -l"\n');
  writeFileSync(join(home, 'Documents', 'thesis.txt'), 'years of work\n');
  const before = listTree(home);
  const e = await rejectsWithCode(restore(opts(home, { delta: true })), 'CONFLICT', /not a PostgreSQL data directory/);
  assert.match(e.message, /nothing was changed/);
  assert.deepEqual(listTree(home), before);
  assert.equal(readFileSync(join(home, 'Documents', 'thesis.txt'), 'utf8'), 'years of work\n');
});

test('--delta into the data directory of another PostgreSQL system is refused', async () => {
  const other = join(work, 'other-cluster');
  mkdirSync(join(other, 'global'), { recursive: true });
  writeFileSync(join(other, 'PG_VERSION'), '15\n');
  const control = Buffer.alloc(8192);
  control.writeBigUInt64LE(1234567890123456789n, 0);
  writeFileSync(join(other, 'global', 'pg_control'), control);
  writeFileSync(join(other, 'precious'), 'x');
  const before = listTree(other);
  const e = await rejectsWithCode(restore(opts(other, { delta: true })), 'CONFLICT', /another PostgreSQL system \(1234567890123456789/);
  assert.ok(e.details?.expected);
  assert.deepEqual(listTree(other), before);
  // Without pg_control, which cluster it is cannot be told: refused too.
  rmSync(join(other, 'global', 'pg_control'));
  await rejectsWithCode(restore(opts(other, { delta: true })), 'CONFLICT', /no readable global\/pg_control/);
  assert.ok(existsSync(join(other, 'precious')));
});

test('--to "" is a usage error, never the current directory', async () => {
  // A throwaway current directory: were "" taken as ".", only it would be rewritten.
  const cwd = join(work, 'cwd');
  mkdirSync(cwd);
  writeFileSync(join(cwd, 'keep-me'), 'x');
  const previous = process.cwd();
  process.chdir(cwd);
  try {
    await rejectsWithCode(restore(opts('', { delta: true })), 'USAGE', /empty path/);
    const r = spawnSync(process.execPath, [CLI, '--repo', repoDir, '--cluster', 'test', 'restore', '--to', '', '--delta'], {
      cwd,
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--to.*empty/);
  } finally {
    process.chdir(previous);
  }
  assert.deepEqual(readdirSync(cwd), ['keep-me']);
});

faultTest('restore --delta over a crashed primary (kill -9) keeps the WAL the archive lacks; recovery replays it', async () => {
  // The archiver fails from now on: what follows reaches pg_wal only.
  await src.exec("alter system set archive_command = '/bin/false'");
  await src.exec('select pg_reload_conf()');
  await src.exec("insert into t select g, 'unarchived-' || g from generate_series(1001, 2000) g");
  const [seg] = await src.query<{ f: string }>('select pg_walfile_name(pg_switch_wal()) as f');
  await src.exec("insert into t select g, 'current-' || g from generate_series(2001, 2500) g");
  const expected = (await src.query<{ n: number }>('select count(*)::int as n from t'))[0]!.n;
  assert.equal(expected, 2500);
  assert.ok(existsSync(join(src.dataDir, 'pg_wal', 'archive_status', `${seg!.f}.ready`)), `${seg!.f} waits for the archiver`);

  // kill -9 the postmaster; wait (bounded) for it and its children to be gone.
  const pid = Number(readFileSync(join(src.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .map(Number)
    .filter((x) => x > 0);
  process.kill(pid, 'SIGKILL');
  const alive = (p: number) => {
    try {
      process.kill(p, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (let i = 0; [pid, ...children].some(alive); i++) {
    if (i > 300) throw new Error(`processes ${[pid, ...children].filter(alive).join(', ')} still alive 30 s after kill -9`);
    await new Promise((r) => setTimeout(r, 100));
  }

  let restored: LocalCluster | undefined;
  try {
    const r = await restore(opts(src.dataDir, { id: undefined, delta: true, start: true, onStarted: (c) => (restored = c) }));
    const w = (r as { unarchivedWal?: { files: { name: string; keptInPgWal: boolean }[]; savedTo: string } }).unarchivedWal;
    const [counts] = await restored!.query<{ n: number; u: number; c: number }>(
      "select count(*)::int as n, count(*) filter (where v like 'unarchived-%')::int as u, count(*) filter (where v like 'current-%')::int as c from t",
    );
    const { n, u, c } = counts!;
    assert.deepEqual({ n, u, c }, { n: expected, u: 1000, c: 500 }, `every committed row came back; removed: ${r.removed.join(', ')}`);
    assert.ok(w, 'the result reports the unarchived WAL');
    const names = w.files.map((f) => f.name);
    assert.ok(names.includes(seg!.f), `${seg!.f} (.ready) is among ${names.join(', ')}`);
    assert.ok(
      w.files.every((f) => f.keptInPgWal),
      'archive recovery: kept in pg_wal',
    );
    for (const name of names) assert.ok(existsSync(join(w.savedTo, name)), `${name} copied to ${w.savedTo}`);
    assert.ok(!r.removed.some((p) => names.some((name) => p.startsWith(`pg_wal/${name}`))), `none removed: ${r.removed.join(', ')}`);
    assert.ok(
      r.warnings.some((x) => x.includes(w.savedTo)),
      r.warnings.join('\n'),
    );
    rmSync(w.savedTo, { recursive: true, force: true });
  } finally {
    await restored?.destroy();
  }
});
