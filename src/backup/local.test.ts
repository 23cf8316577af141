import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PgkeepError } from '../errors.js';
import { faultTest } from '../test-support/faults.js';
import type { LocalCluster } from '../pg/local-cluster.js';
import type { Repository } from '../repo/index.js';
import { newPosixRepo, tempDir } from '../repo/test-utils.js';
import { restore } from '../restore/index.js';
import { backup, verifyBackup, type BackupResult } from './index.js';
import { checkClusterIdentity, resolveSnapshot } from '../holdings/index.js';
import {
  amcheck,
  assertRepoInsideRefused,
  createSourceCluster,
  pgbench,
  pgbenchBalances,
  STATIC_TABLES,
  tableChecksums,
} from './test-support.js';

let source: LocalCluster;
let repo: Repository;
let work: { path: string; remove(): Promise<void> };
let first: BackupResult;
const CLUSTER = 'main';

before(async () => {
  work = await tempDir('pgkeep-backup-local-');
  source = await createSourceCluster();
  repo = await newPosixRepo(join(work.path, 'repo'));
});

after(async () => {
  await source?.destroy();
  await repo?.close();
  await work?.remove();
});

async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<PgkeepError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PgkeepError, `expected a PgkeepError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return e;
  }
  assert.fail('expected a rejection');
}

/** Restore with the restore use case and start the copy; the caller destroys it. */
async function restoreAndStart(id: string, name: string): Promise<LocalCluster> {
  let started: LocalCluster | undefined;
  const tsLocation = join(source.baseDir, 'ts1');
  await restore({
    repo,
    cluster: CLUSTER,
    id,
    to: join(work.path, name),
    sync: false,
    tablespaceMap: [{ from: tsLocation, to: join(work.path, `${name}-ts`) }],
    access: { repo: join(work.path, 'repo'), cluster: CLUSTER },
    start: true,
    onStarted: (c) => (started = c),
  });
  assert.ok(started, 'the restored cluster started');
  return started;
}

test('local backup while pgbench writes: restores to the data the source held, amcheck clean', async () => {
  const staticBefore = await tableChecksums(source, STATIC_TABLES);
  const workload = pgbench(source, ['-n', '-c', '2', '-T', '8', '-R', '150'], 'app');
  await sleep(1000);
  const phases = new Set<string>();
  first = await backup({
    repo,
    clusterName: CLUSTER,
    cluster: source.connectionSettings(),
    method: 'local',
    jobs: 2,
    label: 'first',
    onProgress: (p) => phases.add(p.phase),
  });
  await workload;
  assert.deepEqual([...phases], ['connecting', 'starting', 'copying', 'stopping', 'publishing']);
  assert.equal(first.method, 'local');
  assert.equal(first.standalone, false);
  assert.ok(first.pagesChecked > 1000, `pages checked: ${first.pagesChecked}`);
  assert.equal(first.checksumFailures.length, 0);
  assert.equal(first.reusedFiles, 0);
  assert.equal(first.storedBytes > 0 && first.storedBytes < first.logicalBytes, true);
  assert.match(first.walStart, /^[0-9A-F]{24}$/);

  const { snapshot, meta } = await resolveSnapshot(repo, CLUSTER, first.snapshotId);
  assert.equal(meta.method, 'local');
  assert.equal(meta.label, 'first');
  assert.equal(meta.tablespaces.length, 1);
  assert.match(meta.backupLabel ?? '', /LABEL: first/);
  assert.match(meta.tablespaceMap ?? '', new RegExp(`^${meta.tablespaces[0]!.oid} `));
  assert.equal(meta.dataChecksums, true);
  const paths = new Set<string>();
  for await (const r of snapshot.files()) paths.add(r.path);
  for (const p of [
    'backup_label',
    'tablespace_map',
    'global/pg_control',
    'PG_VERSION',
    'pg_wal',
    'pg_wal/archive_status',
    'pg_replslot',
    `pg_tblspc/${meta.tablespaces[0]!.oid}`,
  ]) {
    assert.ok(paths.has(p), `snapshot has ${p}`);
  }
  assert.ok(
    ![...paths].some((p) => p.startsWith('pg_wal/0') || p === 'postmaster.pid' || p.includes('pg_internal.init')),
    'exclusions applied',
  );
  const tsFiles = [...paths].filter((p) => p.startsWith(`pg_tblspc/${meta.tablespaces[0]!.oid}/PG_15_`));
  assert.ok(tsFiles.length >= 3, 'tablespace files stored');
  // unlogged tables: only the init fork is stored
  const [u] = await source.query<{ p: string }>(`SELECT pg_relation_filepath('sessions') AS p`, [], 'shop');
  assert.ok(paths.has(`${u!.p}_init`) && !paths.has(u!.p), 'unlogged relation: init fork only');

  // the copy needs the WAL written during the backup: take it from the source's pg_wal for this test
  // (the WAL issue archives it; --standalone stores it with the backup)
  const copy = await restoreAndStartWithWal(first);
  try {
    assert.deepEqual(await tableChecksums(copy, STATIC_TABLES), staticBefore);
    const b = await pgbenchBalances(copy);
    assert.equal(b.accountRows, '200000');
    assert.equal(b.accounts, b.history);
    assert.equal(b.branches, b.history);
    assert.equal(b.tellers, b.history);
    assert.deepEqual(await copy.query(`SELECT count(*)::int AS n FROM sessions`, [], 'shop'), [{ n: 0 }]);
    await amcheck(copy);
  } finally {
    await copy.destroy();
  }
});

/** Restore a non-standalone local backup: fetch its WAL from the source's pg_wal (stands in for the archive). */
async function restoreAndStartWithWal(b: BackupResult): Promise<LocalCluster> {
  await source.exec('SELECT pg_switch_wal()');
  const name = `restore-${b.snapshotId}`;
  const dir = join(work.path, name);
  let started: LocalCluster | undefined;
  await restore({
    repo,
    cluster: CLUSTER,
    id: b.snapshotId,
    to: dir,
    sync: false,
    tablespaceMap: [{ from: join(source.baseDir, 'ts1'), to: join(work.path, `${name}-ts`) }],
    access: { repo: join(work.path, 'repo'), cluster: CLUSTER },
    recovery: {
      settings: {
        restore_command: `cp ${join(source.dataDir, 'pg_wal')}/%f %p`,
        recovery_target: 'immediate',
        recovery_target_action: 'promote',
      },
    },
    start: true,
    onStarted: (c) => (started = c),
  });
  assert.ok(started);
  return started;
}

test('a second backup after a small change stores a small fraction of the first', async () => {
  const base = await backup({ repo, clusterName: CLUSTER, cluster: source.connectionSettings(), method: 'local', jobs: 2 });
  assert.equal(base.incrementalFrom, first.snapshotId);
  await source.exec(`UPDATE orders SET amount = amount + 1 WHERE id <= 20`, 'shop');
  await source.exec('CHECKPOINT');
  await sleep(2100); // the reuse rule reads files changed within 2 s of the start
  const second = await backup({ repo, clusterName: CLUSTER, cluster: source.connectionSettings(), method: 'local', jobs: 2 });
  assert.equal(second.incrementalFrom, base.snapshotId);
  assert.ok(second.storedBytes < first.storedBytes * 0.05, `stored ${second.storedBytes} of ${first.storedBytes}`);
  assert.ok(second.reusedFiles > 100, `reused files: ${second.reusedFiles}`);
  assert.ok(second.reusedBytes > second.logicalBytes * 0.9);
  const all = await backup({
    repo,
    clusterName: CLUSTER,
    cluster: source.connectionSettings(),
    method: 'local',
    jobs: 2,
    checksumAll: true,
  });
  assert.equal(all.reusedFiles, 0);
  assert.ok(all.storedBytes < first.storedBytes * 0.05, `--checksum-all stored ${all.storedBytes}`);
  assert.ok(all.reusedChunks > 0);
});

test('standalone local backup carries its WAL and restores with no archive; verify passes', async () => {
  const staticBefore = await tableChecksums(source, STATIC_TABLES);
  const workload = pgbench(source, ['-n', '-c', '2', '-T', '5', '-R', '100'], 'app');
  await sleep(500);
  const b = await backup({ repo, clusterName: CLUSTER, cluster: source.connectionSettings(), method: 'local', standalone: true, jobs: 2 });
  await workload;
  assert.equal(b.standalone, true);
  assert.ok(b.walSegments >= 1);
  const { snapshot } = await resolveSnapshot(repo, CLUSTER, 'latest');
  assert.equal(snapshot.id, b.snapshotId);
  assert.ok(await snapshot.file(`pg_wal/${b.walEnd}`));
  // Each chunk carries its SHA-256 (checked on every read); no second hash of the whole file.
  const rec = await snapshot.file('PG_VERSION');
  assert.ok(rec?.type === 'file' && rec.chunks.every((c) => /^[0-9a-f]{64}$/.test(c.sha256)));
  assert.equal(rec.sha256, undefined);
  const v = await verifyBackup(repo, CLUSTER, 'latest');
  assert.deepEqual(v.problems, []);
  assert.equal(v.walSegmentsChecked, b.walSegments);
  const copy = await restoreAndStart(b.snapshotId, 'standalone');
  try {
    assert.deepEqual(await tableChecksums(copy, STATIC_TABLES), staticBefore);
    const bal = await pgbenchBalances(copy);
    assert.equal(bal.accounts, bal.history);
    assert.equal(bal.branches, bal.history);
  } finally {
    await copy.destroy();
  }
});

test("refusals: another system under the same cluster name; pgdata that is not the server's", async () => {
  await checkClusterIdentity(repo, 'other', '1234567890');
  const e = await rejectsWith(
    backup({ repo, clusterName: 'other', cluster: source.connectionSettings(), method: 'local' }),
    'CONFLICT',
    /belongs to the PostgreSQL system 1234567890/,
  );
  assert.match(e.hint ?? '', /another cluster name/);
  await rejectsWith(
    backup({ repo, clusterName: CLUSTER, cluster: { ...source.connectionSettings(), pgdata: work.path }, method: 'local' }),
    'CONFIG',
    /is not the data directory of the server/,
  );
  assert.equal((await repo.listSnapshots('other')).length, 0);
});

test('a repository inside the data directory or a tablespace is refused by local and stream before anything is written', async () => {
  await assertRepoInsideRefused(source.dataDir, ['local', 'stream'], source.connectionSettings(), /the data directory/);
  await assertRepoInsideRefused(join(source.baseDir, 'ts1'), ['local', 'stream'], source.connectionSettings(), /tablespace \d+/);
});

test('a corrupt page fails a local backup naming the file and block; --ignore-checksum-errors warns', async () => {
  const [r] = await source.query<{ p: string }>(`SELECT pg_relation_filepath('big') AS p`, [], 'app');
  const before = (await repo.listSnapshots(CLUSTER)).length;
  await source.stop('fast');
  const file = join(source.dataDir, r!.p);
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(16);
  readSync(fd, b, 0, 16, 5 * 8192 + 3000);
  writeSync(fd, Buffer.from(b.map((x) => x ^ 0x5a)), 0, 16, 5 * 8192 + 3000);
  closeSync(fd);
  await source.start();
  const e = await rejectsWith(
    backup({ repo, clusterName: CLUSTER, cluster: source.connectionSettings(), method: 'local', checksumAll: true }),
    'DATA_INTEGRITY',
    new RegExp(`${r!.p.replace(/\//g, '\\/')} block 5\\b`),
  );
  assert.match(e.hint ?? '', /--ignore-checksum-errors/);
  assert.equal((await repo.listSnapshots(CLUSTER)).length, before, 'nothing published');
  const warnings: string[] = [];
  const ok = await backup({
    repo,
    clusterName: CLUSTER,
    cluster: source.connectionSettings(),
    method: 'local',
    checksumAll: true,
    ignoreChecksumErrors: true,
    onWarning: (w) => warnings.push(w),
  });
  assert.deepEqual(
    ok.checksumFailures.map((f) => [f.path, f.block]),
    [[r!.p, 5]],
  );
  assert.match(warnings.join('\n'), /block 5/);
  await rm(join(work.path, 'restore-none'), { recursive: true, force: true });
});

faultTest("the backup's session terminated mid-copy (pg_terminate_backend): CONNECTION, saying so; nothing published", async () => {
  for (const method of ['local', 'stream'] as const) {
    const before = (await repo.listSnapshots(CLUSTER)).length;
    let killed: Promise<unknown> | undefined;
    const e = await rejectsWith(
      backup({
        repo,
        clusterName: CLUSTER,
        cluster: source.connectionSettings(),
        method,
        onProgress: (p) => {
          if (p.phase === 'copying' && !killed) {
            killed = source.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgkeep backup'`);
          }
        },
      }),
      'CONNECTION',
      /session|connection/,
    );
    await killed;
    assert.equal(e.exitCode, 4);
    assert.match(e.message, /terminat|ended|closed/, `${method}: ${e.message}`);
    assert.doesNotMatch(e.message, /not queryable/);
    assert.equal((await repo.listSnapshots(CLUSTER)).length, before, `${method}: nothing published`);
  }
});
