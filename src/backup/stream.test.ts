import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalCluster } from '../pg/local-cluster.js';
import { ensureTraversable, runProgram } from '../pg/server-user.js';
import { pgToolPath } from '../pg/bin.js';
import type { Repository } from '../repo/index.js';
import { newPosixRepo, tempDir } from '../repo/test-utils.js';
import { restore } from '../restore/index.js';
import { promotedToNewTimeline } from '../restore/test-promoted.js';
import { backup, verifyBackup, type BackupResult } from './index.js';
import { resolveSnapshot } from '../holdings/index.js';
import { amcheck, createSourceCluster, pgbench, pgbenchBalances, STATIC_TABLES, tableChecksums } from './test-support.js';

let source: LocalCluster;
let repo: Repository;
let work: { path: string; remove(): Promise<void> };
const CLUSTER = 'main';
let standalone: BackupResult;

before(async () => {
  work = await tempDir('pgkeep-backup-stream-');
  source = await createSourceCluster();
  repo = await newPosixRepo(join(work.path, 'repo'));
});

after(async () => {
  await source?.destroy();
  await repo?.close();
  await work?.remove();
});

test('stream --standalone while pgbench writes: manifest checked, restores with no archive, pg_verifybackup and amcheck clean', async () => {
  const staticBefore = await tableChecksums(source, STATIC_TABLES);
  const workload = pgbench(source, ['-n', '-c', '2', '-T', '8', '-R', '150'], 'app');
  await sleep(1000);
  let lastTotal: number | undefined;
  standalone = await backup({
    repo, clusterName: CLUSTER, cluster: source.connectionSettings(), method: 'stream', standalone: true, jobs: 2, label: 'streamed',
    onProgress: (p) => {
      if (p.phase === 'copying') lastTotal = p.bytesTotal;
    },
  });
  await workload;
  assert.ok(lastTotal && lastTotal > 10_000_000, 'the server\'s size estimate was reported');
  assert.equal(standalone.method, 'stream');
  assert.ok(standalone.walSegments >= 1);
  assert.ok((standalone.manifestFilesChecked ?? 0) > 500, `files checked against backup_manifest: ${standalone.manifestFilesChecked}`);

  const { snapshot, meta } = await resolveSnapshot(repo, CLUSTER, standalone.snapshotId);
  assert.equal(meta.serverManifest, true);
  assert.match(meta.backupLabel ?? '', /LABEL: streamed/);
  assert.equal(meta.tablespaces.length, 1);
  const oid = meta.tablespaces[0]!.oid;
  assert.match(meta.tablespaceMap ?? '', new RegExp(`^${oid} `));
  const link = await snapshot.file(`pg_tblspc/${oid}`);
  assert.equal(link?.type, 'symlink');
  assert.equal(link?.linkTarget, join(source.baseDir, 'ts1'));
  assert.ok(await snapshot.file('backup_manifest'));
  assert.ok(await snapshot.file(`pg_wal/${meta.walStart}`));
  assert.ok(await snapshot.file(`pg_wal/${meta.walEnd}`));

  const v = await verifyBackup(repo, CLUSTER, standalone.snapshotId);
  assert.deepEqual(v.problems, []);
  assert.ok((v.manifestFilesChecked ?? 0) > 500);

  const dir = join(work.path, 'restored');
  let started: LocalCluster | undefined;
  await restore({
    repo, cluster: CLUSTER, id: standalone.snapshotId, to: dir, sync: false,
    tablespaceMap: [{ from: oid, to: join(work.path, 'restored-ts') }],
    access: { repo: join(work.path, 'repo'), cluster: CLUSTER },
  });
  ensureTraversable(dir); // pg_verifybackup runs as the server's OS user
  const verify = await runProgram(pgToolPath(source.binDir, 'pg_verifybackup'), ['-n', '-i', 'tablespace_map', '-i', 'recovery.signal', '-i', 'postgresql.auto.conf', dir]); // the restore rewrote tablespace_map for the new location and wrote the recovery settings
  assert.equal(verify.code, 0, verify.stderr + verify.stdout);
  const { LocalCluster: LC } = await import('../pg/local-cluster.js');
  started = await LC.attach(dir);
  try {
    await started.start();
    await promotedToNewTimeline(started); // its own WAL replayed, then a new timeline
    assert.deepEqual(await tableChecksums(started, STATIC_TABLES), staticBefore);
    const b = await pgbenchBalances(started);
    assert.equal(b.accountRows, '200000');
    assert.equal(b.accounts, b.history);
    assert.equal(b.tellers, b.history);
    assert.equal(b.branches, b.history);
    assert.deepEqual(await started.query(`SELECT count(*)::int AS n FROM scratch`, [], 'app'), [{ n: 0 }]);
    await amcheck(started);
  } finally {
    await started.destroy();
  }
});

test('a second stream backup after a small change stores a small fraction of the first', async () => {
  const base = await backup({ repo, clusterName: CLUSTER, cluster: source.connectionSettings(), method: 'stream', jobs: 2 });
  assert.equal(base.standalone, false);
  assert.equal(base.walSegments, 0);
  await source.exec(`UPDATE small SET note = note || '!' WHERE id <= 10`, 'app');
  const next = await backup({ repo, clusterName: CLUSTER, cluster: source.connectionSettings(), method: 'stream', jobs: 2 });
  assert.equal(next.incrementalFrom, base.snapshotId);
  assert.ok(next.storedBytes < standalone.storedBytes * 0.05, `stored ${next.storedBytes} of ${standalone.storedBytes}`);
  assert.ok(next.reusedChunks > next.newChunks * 10, `reused ${next.reusedChunks} chunks, new ${next.newChunks}`);
  const v = await verifyBackup(repo, CLUSTER, 'latest');
  // Every blob reads back; this source archives no WAL, so verify says the WAL the backup needs
  // to become consistent is not in the archive (and names it).
  assert.deepEqual(v.problems.filter((p) => !p.path.startsWith('WAL archive ')), []);
  assert.equal(v.archivedWal?.ok, 0);
  assert.ok(v.problems.length >= 1 && v.problems.every((p) => /is not in the WAL archive/.test(p.problem)), JSON.stringify(v.problems));
});
