/**
 * The per-major end-to-end matrix (issue 12): src/majors/pg<N>.test.ts each call
 * `majorMatrix(N)` — one fresh cluster of that PostgreSQL major (the system's, or the npm server
 * binaries of package.json), small data, and pgkeep driven through its CLI:
 *
 *   stream backup -> restore -> pg_verifybackup -> start, compare, amcheck
 *   local backup  -> restore -> start, compare, amcheck
 *   wal push (archive_command) / wal get, bytes compared with the server's segment
 *   point-in-time recovery to a moment between two commits
 *   wal stream with a slot: the slot advances only once the WAL is stored
 *   restore --delta over the stream restore
 *   restore-table
 *   inspect and doctor
 *
 * Rows a major cannot pass today assert today's honest answer (a clear error, never a protocol
 * error) and carry a `// MATRIX:` comment saying what changes when the branch doing that lands.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '../pg/local-cluster.js';
import { findPgTool } from '../pg/bin.js';
import { chownTreeToServerUser, runProgram } from '../pg/server-user.js';
import type { Repository } from '../repo/index.js';
import { archivingSource, batch, sum, switchAndWait } from './archiving-source.js';
import { PGKEEP_BIN, runPgkeep, type CliRun } from './cli.js';
import { dropSlotWhenFree } from './drop-slot.js';

const EXIT = { TOOL_MISSING: 12, UNSUPPORTED: 13 };

export function majorMatrix(major: number): void {
  // MATRIX: pg_dump 15 dumps 13-15 only; 16+ work once postgresql-client-<major> is installed in CI.
  const dumpWorks = major <= 15;

  let work: string;
  let repoDir: string;
  let repo: Repository;
  let src: LocalCluster;
  const started: LocalCluster[] = [];
  /** Snapshot ids and "count:md5" of t at each backup. */
  const ids: Record<string, string> = {};
  const at: Record<string, string> = {};
  let pitrTime = '';

  const cli = (args: string[]): Promise<CliRun> =>
    runPgkeep(['--repo', repoDir, '--cluster', 'test', '-d', src.connectionString(), '--pgdata', src.dataDir, ...args]);
  const ok = (r: CliRun, what: string) => assert.equal(r.code, 0, `${what} (PostgreSQL ${major}): exit ${r.code}: ${r.stderr}${r.stdout}`);

  /** Start a restored data directory with the binaries of its major; wait (60 s) until it is promoted. */
  async function startRestored(dir: string): Promise<LocalCluster> {
    const c = await LocalCluster.attach(dir);
    started.push(c);
    await c.start();
    for (let i = 0; ; i++) {
      const [r] = await c.query<{ rec: boolean }>('select pg_is_in_recovery() as rec');
      if (!r!.rec) return c;
      if (i >= 600) throw new Error(`${dir} was still in recovery after 60 s:\n${c.logTail(20)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  async function backupAndRestore(method: 'stream' | 'local'): Promise<LocalCluster> {
    const b = await cli(['--json', 'backup', '--method', method]);
    ok(b, `backup --method ${method}`);
    ids[method] = JSON.parse(b.stdout).snapshotId;
    at[method] = await sum(src);
    chownTreeToServerUser(repoDir); // restore_command runs as the server's OS user
    const dir = join(work, method);
    ok(
      await runPgkeep(['--repo', repoDir, '--cluster', 'test', 'restore', ids[method]!, '--to', dir, '--archive-mode', 'off', '--no-sync']),
      'restore',
    );
    if (method === 'stream') await verifyBackupDir(dir); // a local backup has no server manifest
    // 17+ run the WAL summarizer: pg_wal/summaries comes back empty (the server needs the directory).
    if (major >= 17) assert.deepEqual(readdirSync(join(dir, 'pg_wal', 'summaries')), []);
    const c = await startRestored(dir);
    assert.equal(await sum(c), at[method], `the ${method} backup restored holds t as it was`);
    return c;
  }

  /**
   * pg_verifybackup (of 15, the client tools CI has) on a restored, not yet started stream backup:
   * every file against the server's backup_manifest. No WAL parsing: a backup that is not
   * standalone has no WAL in pg_wal (recovery fetches it), and pg_waldump reads only its own major.
   */
  async function verifyBackupDir(dir: string): Promise<void> {
    const tool = await findPgTool('pg_verifybackup', { minMajor: 13 });
    const args = ['--no-parse-wal', dir];
    const r = await runProgram(tool.path, args, { asServerUser: false });
    if (major >= 17 && tool.major < 17) {
      // MATRIX: 17 writes backup manifest version 2 (with the system identifier), which 15's tool refuses;
      // with postgresql-client-17+ in CI this branch goes and the check below runs.
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /manifest version|unexpected manifest/i, r.stderr);
      return;
    }
    assert.equal(r.code, 0, `pg_verifybackup ${args.join(' ')}: ${r.stderr}`);
  }

  /** amcheck on a started cluster: the B-tree of t's primary key and (14+) t's heap. */
  async function amcheck(c: LocalCluster): Promise<void> {
    await c.exec('create extension if not exists amcheck');
    await c.query("select bt_index_check('t_pkey', true)");
    if (major >= 14) {
      const bad = await c.query("select * from verify_heapam('t')");
      assert.deepEqual(bad, [], 'verify_heapam finds no corruption');
    }
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), `pgkeep-pg${major}-`));
    // 17+: the WAL summarizer runs, so pg_wal/summaries has files a backup must handle.
    ({ repoDir, repo, src } = await archivingSource(work, 500, { major, settings: major >= 17 ? { summarize_wal: 'on' } : {} }));
    assert.equal(src.major, major);
  });

  after(async () => {
    for (const c of started) await c.destroy().catch(() => {});
    await repo?.close();
    await src?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test(`PostgreSQL ${major}: the cluster runs that major, with data checksums`, async () => {
    const [r] = await src.query<{ v: number; c: string }>(
      "select current_setting('server_version_num')::int / 10000 as v, current_setting('data_checksums') as c",
    );
    assert.deepEqual(r, { v: major, c: 'on' });
  });

  test(`PostgreSQL ${major}: backup --method stream, restored, verified, started: same data, amcheck clean`, async () => {
    const c = await backupAndRestore('stream');
    await amcheck(c);
    // pgkeep's own check reads the server's manifest (version 2 with the system identifier on 17+).
    ok(await runPgkeep(['--repo', repoDir, '--cluster', 'test', 'verify', ids.stream!]), 'verify');
    const manifest = JSON.parse(readFileSync(join(work, 'stream', 'backup_manifest'), 'utf8'));
    assert.equal(manifest['PostgreSQL-Backup-Manifest-Version'], major >= 17 ? 2 : 1);
    await c.stop();
  });

  test(`PostgreSQL ${major}: backup --method local, restored and started: same data, amcheck clean`, async () => {
    await batch(src, 501, 50, 'local');
    const c = await backupAndRestore('local');
    await amcheck(c);
    await c.destroy();
  });

  test(`PostgreSQL ${major}: wal push (archive_command) and wal get return the server's segment byte for byte`, async () => {
    await batch(src, 551, 50, 'wal');
    const seg = await switchAndWait(src);
    const dest = join(work, 'got-segment');
    ok(await runPgkeep(['--repo', repoDir, '--cluster', 'test', 'wal', 'get', seg, dest]), 'wal get');
    const [row] = await src.query<{ b: Buffer }>('select pg_read_binary_file($1) as b', [`pg_wal/${seg}`]);
    assert.ok(readFileSync(dest).equals(row!.b), `${seg} from the repository equals pg_wal/${seg}`);
  });

  test(`PostgreSQL ${major}: point-in-time recovery to a moment between two commits`, async () => {
    await batch(src, 601, 50, 'before');
    at.pitr = await sum(src);
    [{ t: pitrTime }] = (await src.query<{ t: string }>(
      `select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as t`,
    )) as [{ t: string }];
    await new Promise((res) => setTimeout(res, 50));
    await batch(src, 651, 50, 'after');
    await switchAndWait(src);
    chownTreeToServerUser(repoDir);
    const dir = join(work, 'pitr');
    ok(
      await runPgkeep([
        '--repo',
        repoDir,
        '--cluster',
        'test',
        'restore',
        '--to',
        dir,
        '--target-time',
        pitrTime,
        '--archive-mode',
        'off',
        '--no-sync',
      ]),
      'restore --target-time',
    );
    const c = await startRestored(dir);
    assert.equal(await sum(c), at.pitr, 'every commit before the time, none after');
    await c.destroy();
  });

  test(`PostgreSQL ${major}: wal stream with a slot stores the WAL, and the slot advances only past what is stored`, async () => {
    const slot = 'pgkeep_matrix';
    const child = spawn(
      process.execPath,
      [
        PGKEEP_BIN,
        '--repo',
        repoDir,
        '--cluster',
        'test',
        '-d',
        src.connectionString(),
        'wal',
        'stream',
        '--slot',
        slot,
        '--create-slot',
        '--status-interval',
        '1',
      ],
      { env: cleanEnv() },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    try {
      await batch(src, 701, 50, 'stream');
      const [sw] = await src.query<{ l: string; f: string }>(
        'select l::text as l, pg_walfile_name(l) as f from (select pg_switch_wal() as l) s',
      );
      let restart = '';
      for (let i = 0; ; i++) {
        const [s] = await src.query<{ r: string | null; ok: boolean | null }>(
          'select restart_lsn::text as r, restart_lsn >= $1::pg_lsn as ok from pg_replication_slots where slot_name = $2',
          [sw!.l, slot],
        );
        restart = s?.r ?? '';
        if (s?.ok) break;
        if (i >= 300) assert.fail(`slot ${slot} did not pass ${sw!.l} in 30 s (at ${restart || 'none'}); wal stream said:\n${stderr}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      const got = join(work, 'streamed-segment');
      ok(await runPgkeep(['--repo', repoDir, '--cluster', 'test', 'wal', 'get', sw!.f, got]), 'wal get of the streamed segment');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, `wal stream exits 0 on SIGTERM:\n${stderr}`);
    await dropSlotWhenFree(src, slot);
  });

  test(`PostgreSQL ${major}: restore --delta over the started stream restore: back to the backup's data`, async () => {
    const dir = join(work, 'stream');
    const r = await runPgkeep([
      '--repo',
      repoDir,
      '--cluster',
      'test',
      '--json',
      'restore',
      ids.stream!,
      '--to',
      dir,
      '--delta',
      '--target',
      'immediate',
      '--archive-mode',
      'off',
      '--no-sync',
    ]);
    ok(r, 'restore --delta');
    const c = await startRestored(dir);
    assert.equal(await sum(c), at.stream, 'the data of the stream backup');
    await c.destroy();
  });

  test(`PostgreSQL ${major}: restore-table brings t back as of the moment between the two commits`, async () => {
    const r = await cli([
      '--json',
      'restore-table',
      '--table',
      'public.t',
      '--as-of',
      pitrTime,
      '--database',
      'postgres',
      '--sandbox-dir',
      work,
    ]);
    if (!dumpWorks) {
      // MATRIX: flips to the success branch once CI installs postgresql-client-<major> (h/oldlocal picks the tools).
      assert.equal(r.code, EXIT.TOOL_MISSING, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`pg_dump ${major} or newer is needed`));
      assert.match(r.stdout, new RegExp(`postgresql-client-${major}`));
      return;
    }
    ok(r, 'restore-table');
    const [x] = await src.query<{ n: number; h: string }>(
      "select count(*)::int as n, md5(coalesce(string_agg(id || ':' || v, ',' order by id), '')) as h from t_restored",
    );
    assert.equal(`${x!.n}:${x!.h}`, at.pitr);
  });

  test(`PostgreSQL ${major}: inspect and doctor read the catalogs of this major`, async () => {
    const i = await cli(['--json', 'inspect', '--explain']);
    ok(i, 'inspect');
    const info = JSON.parse(i.stdout);
    assert.equal(info.server.major, major);
    assert.ok(
      info.objects.some((d: { tables: { name: string }[] }) => d.tables.some((x) => x.name === 't')),
      'table t is listed',
    );
    assert.deepEqual(
      (info.skipped ?? []).filter((x: { reason: string }) => !/^template/.test(x.reason)),
      [],
    );
    const table = await cli(['--json', 'inspect', '--table', 'public.t']);
    ok(table, 'inspect --table');
    const detail = JSON.parse(table.stdout).table;
    assert.deepEqual(
      detail.columns.map((c: { name: string }) => c.name),
      ['id', 'v'],
    );
    assert.deepEqual(
      detail.indexes.map((x: { name: string }) => x.name),
      ['t_pkey'],
    );

    const d = await cli(['--json', 'doctor', '--method', 'all']);
    const report = JSON.parse(d.stdout) as {
      checks: { method: string; check: string; status: string; message: string; fix: string | null }[];
    };
    assert.ok(Array.isArray(report.checks), `doctor --json reported no checks (exit ${d.code}):\n${d.stdout}\n${d.stderr}`);
    const status = (method: string, check: string) => report.checks.find((c) => c.method === method && c.check === check);
    const failed = report.checks.filter((c) => c.status === 'FAIL').map((c) => `${c.method}/${c.check}: ${c.message}`);
    assert.doesNotMatch(JSON.stringify(report), /does not exist|syntax error|bug in pgkeep/, 'no catalog query this major lacks');
    for (const c of report.checks.filter((x) => ['server', 'stream', 'local', 'archive'].includes(x.method))) {
      assert.notEqual(c.status, 'FAIL', `${c.method}/${c.check} on PostgreSQL ${major}: ${c.message}`);
    }
    if (dumpWorks) assert.equal(status('logical', 'pg_dump')?.status, 'PASS');
    else {
      // MATRIX: PASS once postgresql-client-<major> is installed (h/oldlocal selects it).
      assert.equal(status('logical', 'pg_dump')?.status, 'FAIL');
      assert.match(status('logical', 'pg_dump')!.fix ?? '', new RegExp(`postgresql-client-${major}`));
    }
    // The server runs, so cold is not ready: a WARN saying so, from the control file pgkeep reads itself.
    const cold = status('cold', 'cluster_state')!;
    assert.equal(cold.status, 'WARN', failed.join('\n'));
    assert.match(cold.message, /in production/);
  });
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PGKEEP_')) delete env[k];
  return env;
}
