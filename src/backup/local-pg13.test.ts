// `backup --method local` against a real PostgreSQL 13 server (the embedded 13 binaries; client
// tools are Debian's 15): pg_start_backup/pg_stop_backup instead of pg_backup_start/stop, run by
// a non-superuser backup role holding only the grants doctor advises, with a tablespace (so
// tablespace_map comes from pg_stop_backup); the backup is restored, started with the 13
// binaries, and its data compared with the source's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PgkeepError } from '../errors.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser } from '../pg/server-user.js';
import type { Repository } from '../repo/index.js';
import { newPosixRepo, tempDir } from '../repo/test-utils.js';
import { restore } from '../restore/index.js';
import { backup } from './index.js';
import { resolveSnapshot } from '../holdings/index.js';
import { tableChecksums } from './test-support.js';

const PG13 = fileURLToPath(new URL('../../node_modules/embedded-pg-13/native/bin', import.meta.url));
const PG17 = fileURLToPath(new URL('../../node_modules/embedded-pg-17/native/bin', import.meta.url));
const TABLES = { postgres: ['items', 'in_ts'] };

let source: LocalCluster;
let snapshotId: string;
let repo: Repository;
let work: { path: string; remove(): Promise<void> };

before(async () => {
  work = await tempDir('pgkeep-local-pg13-');
  source = await LocalCluster.create({
    pgBin: PG13,
    settings: { wal_level: 'replica', max_wal_senders: 5, max_replication_slots: 5, fsync: false },
  });
  await source.start();
  const ts = join(source.baseDir, 'ts1');
  mkdirSync(ts);
  chownTreeToServerUser(ts);
  await source.exec(`CREATE TABLESPACE ts1 LOCATION '${ts}'`);
  await source.exec(`
    CREATE TABLE items (id int PRIMARY KEY, note text);
    INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
    CREATE TABLE in_ts (id int, payload text) TABLESPACE ts1;
    INSERT INTO in_ts SELECT g, repeat('y', 100) FROM generate_series(1, 2000) g;
    CREATE ROLE bk LOGIN REPLICATION;
    GRANT EXECUTE ON FUNCTION pg_start_backup(text, boolean, boolean) TO bk;
    GRANT EXECUTE ON FUNCTION pg_stop_backup(boolean, boolean) TO bk;
    GRANT pg_read_all_settings TO bk;
    CHECKPOINT;`);
  repo = await newPosixRepo(join(work.path, 'repo'));
});

after(async () => {
  await source?.destroy();
  await repo?.close();
  await work?.remove();
});

test('PostgreSQL 13: a standalone local backup by a granted non-superuser restores and starts with the same data', async () => {
  assert.equal(source.major, 13);
  const expected = await tableChecksums(source, TABLES);
  const warnings: string[] = [];
  const result = await backup({
    repo,
    clusterName: 'main',
    cluster: { ...source.connectionSettings(), connection: source.connectionString('postgres', 'bk') },
    method: 'local',
    standalone: true,
    label: 'on-13',
    onWarning: (w) => warnings.push(w),
  });
  assert.deepEqual(warnings, []);
  const { meta } = await resolveSnapshot(repo, 'main', result.snapshotId);
  assert.equal(meta.method, 'local');
  assert.match(meta.backupLabel ?? '', /^LABEL: on-13$/m);
  assert.match(meta.backupLabel ?? '', /^START TIMELINE: 1$/m);
  assert.equal(meta.tablespaces.length, 1);
  assert.match(meta.tablespaceMap ?? '', new RegExp(`^${meta.tablespaces[0]!.oid} `));
  assert.ok(result.walSegments > 0, 'the standalone backup stored its WAL');
  snapshotId = result.snapshotId;

  let restored: LocalCluster | undefined;
  try {
    const res = await restore({
      repo,
      cluster: 'main',
      id: result.snapshotId,
      to: join(work.path, 'restored'),
      sync: false,
      tablespaceMap: [{ from: join(source.baseDir, 'ts1'), to: join(work.path, 'restored-ts') }],
      access: { repo: join(work.path, 'repo'), cluster: 'main' },
      start: true,
      pgBin: PG13,
      onStarted: (c) => (restored = c),
    });
    assert.ok(restored, 'the restored cluster started');
    assert.ok(res.startCommand.includes(join(PG13, 'pg_ctl')), `the start command uses pg_bin's pg_ctl: ${res.startCommand}`);
    assert.equal(restored.major, 13);
    assert.deepEqual(await tableChecksums(restored, TABLES), expected);
  } finally {
    await restored?.destroy();
  }
});

test('restore --start of a 13 backup where only other majors are installed fails before writing, naming what to install', async (t) => {
  assert.ok(snapshotId, 'the backup of the first test');
  const to = join(work.path, 'no-13');
  // The npm server binaries (the test matrix's) would provide 13: this host is one without them.
  process.env.PGKEEP_PG_EMBEDDED = 'off';
  t.after(() => {
    delete process.env.PGKEEP_PG_EMBEDDED;
  });
  await assert.rejects(
    restore({
      repo,
      cluster: 'main',
      id: snapshotId,
      to,
      sync: false,
      start: true,
      tablespaceMap: [{ from: join(source.baseDir, 'ts1'), to: join(work.path, 'no-13-ts') }],
      access: { repo: join(work.path, 'repo'), cluster: 'main' },
    }),
    (e: unknown) => {
      assert.ok(e instanceof PgkeepError, String(e));
      assert.equal(e.code, 'TOOL_MISSING');
      assert.match(e.message, /^restore --start needs the PostgreSQL 13 server/);
      assert.match(e.hint ?? '', /postgresql-13\b/);
      assert.match(e.hint ?? '', /pg_bin|PGKEEP_PG_BIN/);
      return true;
    },
  );
  assert.equal(existsSync(join(to, 'PG_VERSION')), false, 'nothing restored');
  // pg_bin holding another major: not used, and the search finds no 13 either
  await assert.rejects(
    restore({
      repo,
      cluster: 'main',
      id: snapshotId,
      to,
      sync: false,
      start: true,
      pgBin: PG17,
      tablespaceMap: [{ from: join(source.baseDir, 'ts1'), to: join(work.path, 'no-13-ts') }],
      access: { repo: join(work.path, 'repo'), cluster: 'main' },
    }),
    (e: unknown) =>
      e instanceof PgkeepError && e.code === 'TOOL_MISSING' && /holds PostgreSQL 17\.\d+, but major 13 is needed/.test(e.message),
  );
  assert.equal(existsSync(join(to, 'PG_VERSION')), false, 'nothing restored');
});
