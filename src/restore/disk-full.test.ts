/**
 * A full disk is the user's problem, never "a bug in pgkeep" (exit 70): a restore onto a full
 * target is CONFLICT naming the directory, keeps its in-progress marker and says how much space
 * there is and is needed; a backup into a full repository is REPOSITORY, and the repository
 * still passes `repo check --read-data` afterwards. Small tmpfs mounts stand in for the full
 * disks (root only: skipped with a message otherwise).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '../pg/local-cluster.js';
import { PosixDriver } from '../repo/storage/posix/index.js';
import { Repository } from '../repo/index.js';
import { backup } from '../backup/index.js';
import { faultTest } from '../test-support/faults.js';
import { runPgkeep } from '../test-support/cli.js';
import { MARKER_FILE } from './marker.js';

const KDF = { N: 1024, r: 8, p: 1 };
const root = process.getuid?.() === 0;
let work: string;
let cluster: LocalCluster | undefined;
let repoDir: string;
const mounts: string[] = [];

function smallDisk(name: string, size: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

before(async () => {
  if (!root) return;
  work = await mkdtemp(join(tmpdir(), 'pgkeep-disk-full-'));
  repoDir = join(work, 'repo');
  mkdirSync(repoDir);
  cluster = await LocalCluster.create({ settings: { fsync: false } });
  await cluster.start();
  // About 20 MB of table data: the restore does not fit in 8 MiB, the compressed backup not in 2 MiB.
  await cluster.exec('create table t (id int, v text); insert into t select g, repeat(md5(g::text), 4) from generate_series(1, 120000) g');
  const repo = await Repository.init(new PosixDriver(repoDir), { kdfCost: KDF, jobs: 1 });
  await backup({ repo, clusterName: 'main', cluster: cluster.connectionSettings(), method: 'stream', standalone: true, jobs: 1 });
  await repo.close();
});

after(async () => {
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', [m]);
    } catch {
      execFileSync('umount', ['-l', m]);
    }
  }
  await cluster?.destroy();
  if (work) await rm(work, { recursive: true, force: true });
});

const skip = root ? false : 'needs root to mount a small tmpfs (mount -t tmpfs -o size=8m)';

if (skip) test('disk full', { skip }, () => undefined);
else {
  faultTest('restore onto a full disk: CONFLICT naming the directory, the marker kept, not a bug', async () => {
    const target = join(smallDisk('target', '8m'), 'data');
    const r = await runPgkeep(['--repo', repoDir, '--cluster', 'main', 'restore', 'latest', '--to', target, '--no-sync']);
    assert.equal(r.code, 11, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /bug in pgkeep|unexpected error/);
    assert.match(r.stderr, new RegExp(`cannot write .* \\(restore target ${target}\\): the disk is full`));
    assert.match(
      r.stderr,
      /hint: free space \(.* free of 8\.0 MiB on the file system holding .*; it needs \d+\.\d MiB in all, \d+\.\d MiB were done/,
    );
    assert.match(r.stderr, /--delta to resume/);
    assert.ok(existsSync(join(target, MARKER_FILE)), 'the in-progress marker stays');
    assert.equal(existsSync(join(target, 'global', 'pg_control')), false, 'never looks like a complete cluster');
  });

  faultTest('backup into a full repository: REPOSITORY with a disk-full hint; the repository still checks clean', async () => {
    const full = smallDisk('small-repo', '2m');
    const small = await Repository.init(new PosixDriver(full), { kdfCost: KDF, jobs: 1 });
    await small.close();
    const base = ['--repo', full, '--cluster', 'main'];
    const r = await runPgkeep([
      ...base,
      '-d',
      cluster!.connectionString(),
      '--pgdata',
      cluster!.dataDir,
      'backup',
      '--method',
      'stream',
      '--jobs',
      '1',
    ]);
    assert.equal(r.code, 6, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /bug in pgkeep|unexpected error/);
    assert.match(r.stderr, /no space left on device/i);
    assert.match(r.stderr, new RegExp(`hint: the file system holding ${full} is full`));
    const check = await runPgkeep([...base, 'repo', 'check', '--read-data']);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /^ok: 0 snapshot\(s\)/);
    const left = readdirSync(full, { recursive: true })
      .map(String)
      .filter((f) => f.includes('.pgkeep-tmp-'));
    assert.deepEqual(left, [], 'no temp file left behind');
    const locks = await runPgkeep([...base, '--json', 'repo', 'locks']);
    assert.deepEqual(JSON.parse(locks.stdout), [], 'the backup released its lock');
  });
}
