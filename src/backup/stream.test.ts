import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalCluster } from '../pg/local-cluster.js';
import { promotedToNewTimeline } from '../restore/test-promoted.js';
import { backup, verifyBackup, type BackupResult } from './index.js';
import { checkStandaloneStreamSnapshot, restoreStreamSnapshot } from './test-stream-checks.js';
import { amcheck, createSourceCluster, pgbench, pgbenchBalances, sourceAndRepo, STATIC_TABLES, tableChecksums } from './test-support.js';

const f = sourceAndRepo('pgkeep-backup-stream-', () => createSourceCluster());
const CLUSTER = 'main';
let standalone: BackupResult;

test('stream --standalone while pgbench writes: manifest checked, restores with no archive, pg_verifybackup and amcheck clean', async () => {
  const { source, repo } = f;
  const staticBefore = await tableChecksums(source, STATIC_TABLES);
  const workload = pgbench(source, ['-n', '-c', '2', '-T', '8', '-R', '150'], 'app');
  await sleep(1000);
  let lastTotal: number | undefined;
  standalone = await backup({
    repo,
    clusterName: CLUSTER,
    cluster: source.connectionSettings(),
    method: 'stream',
    standalone: true,
    jobs: 2,
    label: 'streamed',
    onProgress: (p) => {
      if (p.phase === 'copying') lastTotal = p.bytesTotal;
    },
  });
  await workload;
  assert.ok(lastTotal && lastTotal > 10_000_000, "the server's size estimate was reported");
  const oid = await checkStandaloneStreamSnapshot(repo, CLUSTER, standalone, {
    label: 'streamed',
    tablespaceDir: join(source.baseDir, 'ts1'),
  });
  const dir = await restoreStreamSnapshot(repo, CLUSTER, standalone.snapshotId, { workDir: f.work.path, oid, toolsBinDir: source.binDir });
  const started = await LocalCluster.attach(dir);
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
  const { source, repo } = f;
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
  assert.deepEqual(
    v.problems.filter((p) => !p.path.startsWith('WAL archive ')),
    [],
  );
  assert.equal(v.archivedWal?.ok, 0);
  assert.ok(v.problems.length >= 1 && v.problems.every((p) => /is not in the WAL archive/.test(p.problem)), JSON.stringify(v.problems));
});
