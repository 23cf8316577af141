/**
 * `--method stream` on PostgreSQL 13: BASE_BACKUP's legacy syntax and framing (each archive its
 * own CopyOut, the manifest its own), end to end on a real 13 server with a tablespace. 14 speaks
 * the same dialect and runs in the per-major matrix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { faultTest } from '../test-support/faults.js';
import { rejectsWithCode } from '../test-support/archiving-source.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { findPgBinDir } from '../pg/bin.js';
import { promotedToNewTimeline } from '../restore/test-promoted.js';
import { backup, type BackupResult } from './index.js';
import { resolveSnapshot } from '../holdings/index.js';
import { checkStandaloneStreamSnapshot, restoreStreamSnapshot } from './test-stream-checks.js';
import { addTablespace, REPLICATION_SOURCE, sourceAndRepo, tableChecksums } from './test-support.js';

/** The server binaries of PostgreSQL 13 (npm package embedded-pg-13: initdb, pg_ctl, postgres). */
const PG13_BIN = join(process.cwd(), 'node_modules', 'embedded-pg-13', 'native', 'bin');
const TABLES = { app: ['small', 'in_ts'] };
const CLUSTER = 'old';

async function createPg13Source(): Promise<LocalCluster> {
  // archive_mode on (archive_command "true" until a test breaks it): BASE_BACKUP then waits for the archiver
  const c = await LocalCluster.create({
    pgBin: PG13_BIN,
    hba: REPLICATION_SOURCE.hba,
    settings: { ...REPLICATION_SOURCE.settings, archive_mode: 'on', archive_command: 'true' },
  });
  await c.start();
  await addTablespace(c, 'ts1');
  await c.exec('CREATE DATABASE app');
  await c.exec(
    `
    CREATE TABLE small (id int PRIMARY KEY, note text);
    INSERT INTO small SELECT g, 'row ' || g FROM generate_series(1, 2000) g;
    CREATE TABLE in_ts (id int, payload text) TABLESPACE ts1;
    INSERT INTO in_ts SELECT g, repeat('y', 200) FROM generate_series(1, 3000) g;
    CREATE INDEX in_ts_id ON in_ts (id) TABLESPACE ts1;
    CREATE TABLE writes (id serial PRIMARY KEY, at timestamptz DEFAULT now());`,
    'app',
  );
  await c.exec('CHECKPOINT');
  return c;
}

const f = sourceAndRepo('pgkeep-stream-legacy-', createPg13Source);
let standalone: BackupResult;

test('PostgreSQL 13: standalone stream backup with a tablespace while rows are written, manifest checked, restored and started with the same data', async () => {
  const { source, repo } = f;
  assert.equal(source.major, 13);
  const before = await tableChecksums(source, TABLES);
  let writing = true;
  const writer = (async () => {
    while (writing) await source.exec('INSERT INTO writes DEFAULT VALUES', 'app');
  })();
  let lastTotal: number | undefined;
  let copied = 0;
  try {
    standalone = await backup({
      repo,
      clusterName: CLUSTER,
      cluster: source.connectionSettings(),
      method: 'stream',
      standalone: true,
      jobs: 2,
      label: 'on 13',
      onProgress: (p) => {
        if (p.phase !== 'copying') return;
        lastTotal = p.bytesTotal;
        copied = p.bytesDone;
      },
    });
  } finally {
    writing = false;
    await writer;
  }
  const [{ n: written }] = (await source.query<{ n: number }>('SELECT count(*)::int AS n FROM writes', [], 'app')) as [{ n: number }];
  assert.match(standalone.serverVersion, /^13\./);
  assert.ok(lastTotal && lastTotal > 20_000_000, `the server's size estimate was reported: ${lastTotal}`);
  assert.ok(copied > 20_000_000, `progress counted the bytes: ${copied}`);
  const oid = await checkStandaloneStreamSnapshot(repo, CLUSTER, standalone, {
    label: 'on 13',
    tablespaceDir: join(source.baseDir, 'ts1'),
  });
  // PostgreSQL 15's pg_verifybackup reads a 13 manifest (version 1)
  const tools = await findPgBinDir({ major: 15 });
  const dir = await restoreStreamSnapshot(repo, CLUSTER, standalone.snapshotId, { workDir: f.work.path, oid, toolsBinDir: tools.binDir });
  const started = await LocalCluster.attach(dir, { pgBin: PG13_BIN });
  try {
    await started.start();
    await promotedToNewTimeline(started);
    assert.deepEqual(await tableChecksums(started, TABLES), before);
    const [{ n }] = (await started.query<{ n: number }>('SELECT count(*)::int AS n FROM writes', [], 'app')) as [{ n: number }];
    assert.ok(n > 0 && n <= written, `rows written during the backup: ${n} of ${written}`);
    const [ts] = await started.query<{ loc: string }>(`SELECT pg_tablespace_location(oid) AS loc FROM pg_tablespace WHERE spcname = 'ts1'`);
    assert.equal(ts!.loc, join(f.work.path, 'restored-ts'));
  } finally {
    await started.destroy();
  }
});

test('PostgreSQL 13: a second (archive-based) stream backup after a small change reuses what it can', async () => {
  const { source, repo } = f;
  await source.exec(`UPDATE small SET note = note || '!' WHERE id <= 10`, 'app');
  const next = await backup({ repo, clusterName: CLUSTER, cluster: source.connectionSettings(), method: 'stream', jobs: 2 });
  assert.equal(next.incrementalFrom, standalone.snapshotId);
  assert.equal(next.walSegments, 0);
  assert.ok(next.storedBytes < standalone.storedBytes * 0.1, `stored ${next.storedBytes} of ${standalone.storedBytes}`);
  const { meta } = await resolveSnapshot(repo, CLUSTER, next.snapshotId);
  assert.equal(meta.serverManifest, true);
  assert.equal(meta.tablespaces.length, 1);
});

faultTest('PostgreSQL 13: the walsender terminated mid-copy (between or inside the archives): CONNECTION, nothing published', async () => {
  const { source, repo } = f;
  const before = (await repo.listSnapshots(CLUSTER)).length;
  let killed: Promise<unknown> | undefined;
  await rejectsWithCode(
    backup({
      repo,
      clusterName: CLUSTER,
      cluster: source.connectionSettings(),
      method: 'stream',
      onProgress: (p) => {
        if (p.phase === 'copying' && !killed) {
          killed = source.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgkeep backup' AND backend_type = 'walsender'`,
          );
        }
      },
    }),
    'CONNECTION',
    /BASE_BACKUP|terminat|connection/,
  );
  await killed;
  assert.equal((await repo.listSnapshots(CLUSTER)).length, before, 'nothing published');
});

faultTest('PostgreSQL 13: a failing archiver ends the wait at the end of BASE_BACKUP with its reason; nothing published', async () => {
  const { source, repo } = f;
  const before = (await repo.listSnapshots(CLUSTER)).length;
  await source.exec(`ALTER SYSTEM SET archive_command = 'false'`);
  await source.exec('SELECT pg_reload_conf()');
  try {
    const began = Date.now();
    await rejectsWithCode(
      backup({ repo, clusterName: CLUSTER, cluster: source.connectionSettings(), method: 'stream', archiveTimeoutMs: 60_000 }),
      'SERVER_NOT_READY',
      /WAL archiving is failing.*archive_command failed/s,
    );
    assert.ok(Date.now() - began < 45_000, "ended by the archiver's failures, not by the timeout");
    assert.equal((await repo.listSnapshots(CLUSTER)).length, before, 'nothing published');
  } finally {
    await source.exec('ALTER SYSTEM RESET archive_command');
    await source.exec('SELECT pg_reload_conf()');
  }
});

faultTest(
  'PostgreSQL 13: a damaged page in a tablespace fails the stream backup (DATA_INTEGRITY); --ignore-checksum-errors (NOVERIFY_CHECKSUMS) takes it',
  async () => {
    const { source, repo } = f;
    const [r] = await source.query<{ p: string }>(`SELECT pg_relation_filepath('in_ts') AS p`, [], 'app');
    assert.match(r!.p, /^pg_tblspc\//);
    const before = (await repo.listSnapshots(CLUSTER)).length;
    await source.stop('fast');
    const fd = openSync(join(source.dataDir, r!.p), 'r+');
    const b = Buffer.alloc(16);
    readSync(fd, b, 0, 16, 5 * 8192 + 3000);
    writeSync(fd, Buffer.from(b.map((x) => x ^ 0x5a)), 0, 16, 5 * 8192 + 3000);
    closeSync(fd);
    await source.start();
    const e = await rejectsWithCode(
      backup({ repo, clusterName: CLUSTER, cluster: source.connectionSettings(), method: 'stream' }),
      'DATA_INTEGRITY',
      /checksum verification failure/,
    );
    assert.match(e.hint ?? '', /--ignore-checksum-errors/);
    assert.equal((await repo.listSnapshots(CLUSTER)).length, before, 'nothing published');
    const ok = await backup({
      repo,
      clusterName: CLUSTER,
      cluster: source.connectionSettings(),
      method: 'stream',
      ignoreChecksumErrors: true,
    });
    assert.equal((await repo.listSnapshots(CLUSTER)).length, before + 1);
    assert.ok((ok.manifestFilesChecked ?? 0) > 500);
  },
);
