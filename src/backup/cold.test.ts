import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PgkeepError } from '../errors.js';
import type { LocalCluster } from '../pg/local-cluster.js';
import type { Repository } from '../repo/index.js';
import { newPosixRepo, tempDir } from '../repo/test-utils.js';
import { faultTest } from '../test-support/faults.js';
import { restore } from '../restore/index.js';
import { backup, type BackupResult } from './index.js';
import { amcheck, assertRepoInsideRefused, createSourceCluster, STATIC_TABLES, tableChecksums } from './test-support.js';

let source: LocalCluster;
let repo: Repository;
let work: { path: string; remove(): Promise<void> };
const CLUSTER = 'main';
const ALL_TABLES = {
  ...STATIC_TABLES,
  app: [...STATIC_TABLES.app!, 'pgbench_accounts', 'pgbench_branches', 'pgbench_tellers', 'pgbench_history'],
};
const PGKEEP = fileURLToPath(new URL('../../bin/pgkeep.js', import.meta.url));

before(async () => {
  work = await tempDir('pgkeep-backup-cold-');
  source = await createSourceCluster({ scale: 1 });
  repo = await newPosixRepo(join(work.path, 'repo'));
});

after(async () => {
  await source?.destroy();
  await repo?.close();
  await work?.remove();
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [PGKEEP, '--repo', join(work.path, 'repo'), '--cluster', CLUSTER, '--pgdata', source.dataDir, ...args],
      { cwd: work.path },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('a cold backup of a running server is refused', async () => {
  await assert.rejects(backup({ repo, clusterName: CLUSTER, cluster: source.connectionSettings(), method: 'cold' }), (e: unknown) => {
    assert.ok(e instanceof PgkeepError);
    assert.equal(e.code, 'SERVER_NOT_READY');
    assert.match(e.message, /not cleanly shut down \(control file: "in production"/);
    assert.match(e.hint ?? '', /pg_ctl stop/);
    return true;
  });
  const r = await cli(['backup', '--method', 'cold']);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /not cleanly shut down/);
});

let first: BackupResult;

test('cold backup through the CLI, list/show/verify, restore: every table identical, amcheck clean', async () => {
  const expected = await tableChecksums(source, ALL_TABLES);
  await source.stop('fast');
  const r = await cli(['--json', 'backup', '--method', 'cold', '--jobs', '2', '--label', 'cold one']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  first = JSON.parse(r.stdout) as BackupResult;
  assert.equal(first.method, 'cold');
  assert.equal(first.walStart, '');
  assert.equal(first.standalone, true);
  assert.equal(first.startLsn, first.stopLsn);
  assert.ok(first.pagesChecked > 500);

  const text = await cli(['backup', '--method', 'cold']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^backup \S+ of cluster main stored \(cold, PostgreSQL 15/);
  assert.match(text.stdout, /unchanged files reused without reading/);

  const list = await cli(['--json', 'list']);
  assert.equal(list.code, 0, list.stderr);
  const rows = JSON.parse(list.stdout).snapshots as { id: string; method: string; standalone: boolean; startLsn: string }[];
  assert.equal(rows.length, 2);
  assert.equal(rows[0]!.id, first.snapshotId);
  assert.deepEqual([rows[0]!.method, rows[0]!.standalone, rows[0]!.startLsn], ['cold', true, first.startLsn]);
  const listText = await cli(['list']);
  assert.match(listText.stdout, new RegExp(`${first.snapshotId}\\s+physical\\s+cold`));

  const show = await cli(['--json', 'show', first.snapshotId, '--files']);
  assert.equal(show.code, 0, show.stderr);
  const details = JSON.parse(show.stdout);
  assert.equal(details.meta.label, 'cold one');
  const paths = new Set((details.files as { path: string }[]).map((f) => f.path));
  assert.ok(paths.has('global/pg_control') && paths.has('pg_wal/archive_status') && [...paths].some((p) => p.startsWith('pg_wal/0')));
  const showText = await cli(['show', 'latest']);
  assert.match(showText.stdout, /label: +pgkeep /);

  const verify = await cli(['verify', first.snapshotId]);
  assert.equal(verify.code, 0, verify.stderr + verify.stdout);
  assert.match(verify.stdout, /: OK/);

  let started: LocalCluster | undefined;
  await restore({
    repo,
    cluster: CLUSTER,
    id: first.snapshotId,
    to: join(work.path, 'restored'),
    sync: false,
    tablespaceMap: [{ from: join(source.baseDir, 'ts1'), to: join(work.path, 'restored-ts') }],
    access: { repo: join(work.path, 'repo'), cluster: CLUSTER },
    start: true,
    onStarted: (c) => (started = c),
  });
  try {
    assert.ok(started);
    assert.deepEqual(await tableChecksums(started, ALL_TABLES), expected);
    await amcheck(started);
  } finally {
    await started?.destroy();
  }
});

test('the second cold backup of an unchanged cluster reuses every file', async () => {
  const second = await backup({ repo, clusterName: CLUSTER, cluster: source.connectionSettings(), method: 'cold', jobs: 2 });
  assert.ok(second.reusedFiles >= second.files - 2000 && second.reusedFiles > 500, `reused ${second.reusedFiles} of ${second.files}`);
  assert.ok(second.storedBytes < first.storedBytes * 0.02, `stored ${second.storedBytes} of ${first.storedBytes}`);
});

test('verify finds a damaged pack and exits with 7', async () => {
  const packsDir = join(work.path, 'repo', 'packs');
  const packs = readdirSync(packsDir).flatMap((d) => readdirSync(join(packsDir, d)).map((f) => join(packsDir, d, f)));
  const biggest = packs.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
  const fd = openSync(biggest, 'r+');
  writeSync(fd, Buffer.from('garbage!'), 0, 8, Math.floor(statSync(biggest).size / 2));
  closeSync(fd);
  const r = await cli(['--json', 'verify', first.snapshotId]);
  assert.equal(r.code, 7, r.stderr + r.stdout);
  const report = JSON.parse(r.stdout);
  assert.equal(report.ok, false);
  assert.ok(report.problems.length >= 1);
});

test('a repository inside the data directory or a tablespace is refused by a cold backup before anything is written', async () => {
  await source.stop('fast');
  const settings = { ...source.connectionSettings(), pgdata: source.dataDir };
  await assertRepoInsideRefused(source.dataDir, ['cold'], settings, /the data directory/);
  await assertRepoInsideRefused(join(source.baseDir, 'ts1'), ['cold'], settings, /tablespace \d+/);
});

faultTest(
  'a damaged control file (its CRC does not match) is refused by a cold backup: pg_controldata\'s "shut down" cannot be trusted',
  async () => {
    await source.stop('fast');
    const control = join(source.dataDir, 'global', 'pg_control');
    const original = readFileSync(control);
    const damaged = Buffer.from(original);
    damaged[48] = damaged[48]! ^ 0xff; // inside ControlFileData, before its CRC: pg_controldata warns and goes on
    writeFileSync(control, damaged);
    const before = (await repo.listSnapshots(CLUSTER)).length;
    try {
      await assert.rejects(
        backup({ repo, clusterName: CLUSTER, cluster: { ...source.connectionSettings(), pgdata: source.dataDir }, method: 'cold' }),
        (e: unknown) => {
          assert.ok(e instanceof PgkeepError, String(e));
          assert.equal(e.code, 'DATA_INTEGRITY');
          assert.match(e.message, /global\/pg_control is damaged: its CRC does not match/);
          return true;
        },
      );
      assert.equal((await repo.listSnapshots(CLUSTER)).length, before, 'nothing is stored');
    } finally {
      writeFileSync(control, original);
    }
  },
);
