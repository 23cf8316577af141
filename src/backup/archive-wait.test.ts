/**
 * A hot backup's wait for WAL archiving is bounded and watched (archive-watch.ts), and the
 * repository's ownership rule lets root's backup and postgres' archive_command share a
 * repository. One cluster (archive_mode on); archive_command is switched between a working
 * `pgkeep wal push` (run by the server as postgres), `false` and a slow `sleep`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { lookupOsUser } from '../pg/server-user.js';
import { Repository } from '../repo/index.js';
import { PosixDriver } from '../repo/storage/posix/index.js';
import { listLocks } from '../repo/locks.js';
import { tempDir } from '../repo/test-utils.js';
import { faultTest } from '../test-support/faults.js';
import { PGKEEP_BIN, runCli } from '../test-support/run-cli.js';
import { backup, listBackups, type BackupMethod } from './index.js';

let cluster: LocalCluster;
let work: { path: string; remove(): Promise<void> };
let repoDir: string;
let repo: Repository;
const pg = lookupOsUser('postgres');
const asRoot = process.getuid?.() === 0 && pg !== undefined;

const pushCommand = () => `env -u PGKEEP_CONFIG ${process.execPath} ${PGKEEP_BIN} --repo ${repoDir} --cluster main wal push %p`;

async function setArchiveCommand(cmd: string): Promise<void> {
  await cluster.exec(`ALTER SYSTEM SET archive_command = '${cmd.replace(/'/g, "''")}'`);
  await cluster.exec('SELECT pg_reload_conf()');
  await new Promise((r) => setTimeout(r, 300));
}

before(async () => {
  work = await tempDir('pgkeep-archive-wait-');
  chmodSync(work.path, 0o755);
  // the tester's setup: a root-owned directory anyone may write into
  repoDir = join(work.path, 'repo');
  mkdirSync(repoDir);
  chmodSync(repoDir, 0o777);
  cluster = await LocalCluster.create({
    settings: {
      wal_level: 'replica',
      archive_mode: 'on',
      archive_command: 'false',
      fsync: false,
      max_wal_senders: 4,
      // a log file the backup can quote the archiver's error from
      logging_collector: 'on',
      log_directory: 'log',
    },
    hba: ['local replication all trust'],
  });
  await cluster.start();
  await cluster.exec('CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 5000) g');
});

after(async () => {
  await repo?.close();
  await cluster?.destroy();
  await work?.remove();
});

function run(method: BackupMethod, archiveTimeoutMs: number) {
  return backup({ repo, clusterName: 'main', cluster: cluster.connectionSettings(), method, jobs: 1, archiveTimeoutMs });
}

/** The failed backup left nothing: no snapshot, no lock, no server session still in a backup. */
async function assertNothingLeft(): Promise<void> {
  assert.deepEqual(
    (await listBackups(repo, 'main')).map((b) => b.id).filter((id) => !published.has(id)),
    [],
  );
  assert.deepEqual(await listLocks(repo.driver), []);
  for (let i = 0; ; i++) {
    const rows = await cluster.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE 'pgkeep backup%'",
    );
    const waiting = await cluster.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_progress_basebackup');
    if (rows[0]!.n === '0' && waiting[0]!.n === '0') return;
    assert.ok(i < 50, 'a backup session is still on the server');
    await new Promise((r) => setTimeout(r, 100));
  }
}
const published = new Set<string>();

async function failsWithin(p: Promise<unknown>, code: string, re: RegExp, maxMs: number): Promise<PgkeepError> {
  const began = Date.now();
  try {
    await p;
  } catch (e) {
    const ms = Date.now() - began;
    assert.ok(e instanceof PgkeepError, `expected a PgkeepError, got ${String((e as Error)?.stack ?? e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    assert.ok(ms < maxMs, `failed after ${ms} ms (bound ${maxMs} ms)`);
    return e;
  }
  assert.fail('the backup succeeded');
}

test('root backs up into a repository postgres created in a root-owned 0777 directory; postgres archives into it', {
  skip: !asRoot && 'needs root',
}, async () => {
  const init = await runCli(['--repo', repoDir, 'repo', 'init'], {
    uid: pg!.uid,
    gid: pg!.gid,
    cwd: work.path,
    env: { ...process.env, HOME: work.path },
  });
  assert.equal(init.code, 0, init.stderr);
  repo = await Repository.open(new PosixDriver(repoDir), { jobs: 1 });
  await setArchiveCommand(pushCommand());
  for (const method of ['local', 'stream'] as const) {
    // root writes the cluster's identity, packs and manifest; postgres' wal push must read the identity
    const r = await run(method, 60_000);
    published.add(r.snapshotId);
  }
  const [a] = await cluster.query<{ failed: string; last: string | null }>(
    'SELECT failed_count AS failed, last_archived_wal AS last FROM pg_stat_archiver',
  );
  assert.equal(a!.failed, '0', `the archiver failed: ${cluster.logTail(10)}`);
  assert.ok(a!.last, 'nothing was archived');
});

for (const method of ['local', 'stream'] as const) {
  faultTest(`archive_command fails: a ${method} backup fails within seconds with the archiver's failure, nothing stored`, async () => {
    repo ??= await Repository.init(new PosixDriver(repoDir), { jobs: 1 });
    await setArchiveCommand('echo "no space left on the archive" >&2; false');
    const e = await failsWithin(
      run(method, 60_000),
      'SERVER_NOT_READY',
      /WAL archiving is failing on the server: archive_command failed \d+ time\(s\)/,
      30_000,
    );
    assert.match(e.message, /last for [0-9A-F]{24}/);
    // the archiver's own words, from the server log
    assert.match(e.message, /server log:\n.*no space left on the archive\n.*archive command failed with exit code 1/);
    assert.match(e.hint ?? '', /pgkeep doctor --method archive/);
    await assertNothingLeft();
  });
}

faultTest('a slow archiver: the local backup gives up after --archive-timeout, naming the last archived segment', async () => {
  repo ??= await Repository.init(new PosixDriver(repoDir), { jobs: 1 });
  await setArchiveCommand('sleep 6; false');
  const e = await failsWithin(
    run('local', 2_000),
    'SERVER_NOT_READY',
    /did not archive the backup's last WAL segment within 2s \(archive_timeout\)/,
    20_000,
  );
  assert.match(e.hint ?? '', /archive_timeout/);
  await assertNothingLeft();
});

faultTest('SIGTERM while a backup waits for archiving: exit 14 within seconds, nothing stored', async () => {
  repo ??= await Repository.init(new PosixDriver(repoDir), { jobs: 1 });
  await setArchiveCommand('sleep 6; false');
  await new Promise((r) => setTimeout(r, 6500)); // let a previous sleep end
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PGKEEP_|PG)/.test(k)) env[k] = v;
  const r = await runCli(['--repo', repoDir, '-d', cluster.connectionString(), 'backup', '--method', 'local', '--archive-timeout', '5m'], {
    env: { ...env, HOME: work.path },
    cwd: work.path,
    kill: 'SIGTERM',
    killAfterMs: 5000,
    hardLimitMs: 120_000,
  });
  assert.equal(r.signal, null, `still running ${r.msAfterKill} ms after SIGTERM: ${r.stderr}`);
  assert.equal(r.code, 14, r.stderr);
  assert.match(r.stderr, /interrupted by SIGTERM/);
  assert.ok(r.msAfterKill! < 6_000, `exited ${r.msAfterKill} ms after SIGTERM`);
  await assertNothingLeft();
});
