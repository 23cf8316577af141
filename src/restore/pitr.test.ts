/**
 * Point-in-time recovery end to end: one source cluster archiving through the real CLI
 * (archive_command = pgkeep wal push %p), stream backups, then restores to a time, a
 * transaction, an LSN and a restore point, each started and compared with what the source held
 * at that target; misuse refused before anything is written; and, last (it adds timeline 2 to
 * the archive), recovery to the latest point after a promotion — with a timeline request, and as
 * a plain restore with no id and no target, which goes through the same planner. Clones restore
 * with archiveMode 'off' (restore --archive-mode off); the promoted one keeps the source's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LocalCluster } from '../pg/local-cluster.js';
import { pgToolPath } from '../pg/bin.js';
import { chownTreeToServerUser, runProgram } from '../pg/server-user.js';
import { PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';
import { backup } from '../backup/index.js';
import { archivingSource, batch, recoveryRestoreOptions, sum, switchAndWait } from '../test-support/archiving-source.js';
import { restore, type PitrRequest, type RestoreOptions, type RestoreResult } from './index.js';
import { parseTargetTime } from './pitr/time.js';
import { parseLsn } from '../pg/lsn.js';
import pg from 'pg';
import { runPgkeep, type CliRun } from '../test-support/cli.js';

let work: string;
let repoDir: string;
let repo: Repository;
let src: LocalCluster;
const ids: Record<string, string> = {};
/** What the source held at each target: "count:md5". */
const at: Record<string, string> = {};
const marks: Record<string, string> = {};
const started: LocalCluster[] = [];

async function takeBackup(name: string): Promise<void> {
  const b = await backup({ repo, clusterName: 'test', cluster: src.connectionSettings(), method: 'stream', jobs: 2 });
  ids[name] = b.snapshotId;
  chownTreeToServerUser(repoDir); // the archiver and restore_command run as the server's OS user
}

function opts(name: string, pitr: PitrRequest | undefined, extra: Partial<RestoreOptions> = {}): RestoreOptions {
  // These clones must not archive into the source's archive (the timeline test does, on purpose).
  return recoveryRestoreOptions({ repo, repoDir, work, started }, name, pitr, extra);
}

async function restoreAndSum(
  name: string,
  pitr: PitrRequest | undefined,
  extra: Partial<RestoreOptions> = {},
): Promise<{ r: RestoreResult; data: string; c: LocalCluster }> {
  const r = await restore(opts(name, pitr, extra));
  const c = started[started.length - 1]!;
  return { r, data: await sum(c), c };
}

function cli(args: string[]): Promise<CliRun> {
  return runPgkeep(['--repo', repoDir, '--cluster', 'test', ...args]);
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pgkeep-pitr-test-'));
  ({ repoDir, repo, src } = await archivingSource(work, 1000));
  marks.beforeB1 = (await src.query<{ t: string }>('select clock_timestamp()::text as t'))[0]!.t;
  await takeBackup('B1');

  // time: a moment between two commits
  await batch(src, 1001, 100, 'b1');
  at.time = await sum(src);
  marks.time = (await src.query<{ t: string }>('select clock_timestamp()::text as t'))[0]!.t;
  await new Promise((r) => setTimeout(r, 20));
  // xid: one transaction, whose id we learn
  const [x] = await src.query<{ x: string }>(
    "with ins as (insert into t select g, 'b2-' || g from generate_series(1101, 1200) g returning 1) select txid_current()::text as x, count(*) from ins",
  );
  marks.xid = x!.x;
  at.xid = await sum(src);
  at.beforeXid = at.time;
  // restore point, then a second backup (so the restore point is before its end)
  await batch(src, 1201, 100, 'b3');
  await src.query("select pg_create_restore_point('before_batch4')");
  at.name = await sum(src);
  await takeBackup('B2');
  // LSN: the insert position after batch 4
  await batch(src, 1301, 100, 'b4');
  marks.lsn = (await src.query<{ l: string }>('select pg_current_wal_insert_lsn()::text as l'))[0]!.l;
  at.lsn = await sum(src);
  await batch(src, 1401, 100, 'b5');
  at.end = await sum(src);
  await switchAndWait(src);
});

after(async () => {
  for (const c of started) await c.destroy().catch(() => {});
  await repo?.close();
  await src?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('--target-time: the newest backup that ended before it, every commit up to it and none after', async () => {
  const { r, data } = await restoreAndSum('time', { target: { kind: 'time', time: parseTargetTime(marks.time!) } });
  assert.equal(data, at.time);
  assert.equal(r.pitr?.snapshotId, ids.B1, r.pitr?.reason);
  assert.match(r.pitr!.reason, /newest backup that ended before the target/);
  assert.equal(r.recovery.settings.recovery_target_time, parseTargetTime(marks.time!).text);
  assert.match(r.recovery.settings.recovery_target_time!, /\+00$/, 'always written with an explicit zone');
  assert.equal(r.recoveryEnd?.state, 'promoted');
  assert.match(r.recoveryEnd?.stoppedAt ?? '', /recovery stopping before commit of transaction/);
  assert.ok(r.pitr?.reach?.lastTransaction, 'the last archived transaction was read from the WAL');
});

test('--archive-mode off: the promoted clone has archive_mode off, set in postgresql.auto.conf, and archives nothing', async () => {
  const { r, c } = await restoreAndSum('archive-off', { target: { kind: 'time', time: parseTargetTime(marks.time!) } });
  assert.deepEqual(
    { ...r.archiving, archiveModeFrom: undefined },
    {
      option: 'off',
      archiveMode: 'off',
      archiveCommand: r.archiving.archiveCommand,
      configFile: join(r.dataDir, 'postgresql.conf'),
      known: true,
      archiveModeFrom: undefined,
    },
  );
  assert.equal(r.archiving.archiveModeFrom, join(r.dataDir, 'postgresql.auto.conf'));
  assert.match(r.archiving.archiveCommand ?? '', /wal push %p/, "the source's archive_command is still there, unused");
  assert.match(readFileSync(join(work, 'archive-off', 'postgresql.auto.conf'), 'utf8'), /^archive_mode = 'off'$/m);
  const [s] = await c.query<{ m: string; ok: boolean }>(
    "select current_setting('archive_mode') as m, (select last_archived_wal is null and failed_count = 0 from pg_stat_archiver) as ok",
  );
  assert.deepEqual(s, { m: 'off', ok: true });
  await c.destroy();
});

test('--target-xid (inclusive and --exclusive): the state right after, and right before, that transaction', async () => {
  const incl = await restoreAndSum('xid', { target: { kind: 'xid', xid: marks.xid! } });
  assert.equal(incl.data, at.xid);
  assert.equal(incl.r.pitr?.snapshotId, ids.B1);
  assert.match(incl.r.pitr?.found ?? '', new RegExp(`commit of transaction ${marks.xid}`));
  const excl = await restoreAndSum('xid-excl', { target: { kind: 'xid', xid: marks.xid! }, exclusive: true });
  assert.equal(excl.data, at.beforeXid);
  assert.equal(excl.r.recovery.settings.recovery_target_inclusive, 'off');
});

test('--target-name: a restore point taken before the second backup ended is reached from the first', async () => {
  const { r, data } = await restoreAndSum('name', { target: { kind: 'name', name: 'before_batch4' } });
  assert.equal(data, at.name);
  assert.equal(r.pitr?.snapshotId, ids.B1, 'B2 ended after the restore point');
  assert.match(r.recoveryEnd?.stoppedAt ?? '', /restore point "before_batch4"/);
});

test('--target-lsn with the pause action: B2 chosen, paused read-only at the target with the data of that moment', async () => {
  const { r, data, c } = await restoreAndSum('lsn', { target: { kind: 'lsn', lsn: parseLsn(marks.lsn!) }, action: 'pause' });
  assert.equal(data, at.lsn);
  assert.equal(r.pitr?.snapshotId, ids.B2);
  assert.equal(r.recoveryEnd?.state, 'paused');
  const [s] = await c.query<{ r: boolean }>('select pg_is_in_recovery() as r');
  assert.equal(s!.r, true);
});

test("--target immediate --target-action shutdown: the server stops by itself at the backup's end", async () => {
  const r = await restore(opts('immediate', { target: { kind: 'immediate' }, action: 'shutdown' }, { id: ids.B2 }));
  assert.equal(r.snapshotId, ids.B2);
  assert.equal(r.recoveryEnd?.state, 'shut down');
  assert.match(r.recoveryEnd?.stoppedAt ?? '', /recovery stopping after reaching consistency/);
  assert.equal(existsSync(join(work, 'immediate', 'postmaster.pid')), false);
});

test('CLI: --target-xid --target-action pause --start waits, reports, and leaves the paused server running', async () => {
  const dir = join(work, 'cli-xid');
  const run = await cli(['--json', 'restore', '--to', dir, '--target-xid', marks.xid!, '--target-action', 'pause', '--start']);
  assert.equal(run.code, 0, run.stderr);
  const r = JSON.parse(run.stdout) as RestoreResult;
  try {
    assert.equal(r.snapshotId, ids.B1);
    assert.equal(r.recoveryEnd?.state, 'paused');
    const client = new pg.Client({ host: r.started!.socketDir, port: r.started!.port, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      const q = await client.query("select count(*)::int as n, md5(coalesce(string_agg(id || ':' || v, ',' order by id), '')) as h from t");
      assert.equal(`${q.rows[0].n}:${q.rows[0].h}`, at.xid);
    } finally {
      await client.end();
    }
  } finally {
    await runProgram(pgToolPath(src.binDir, 'pg_ctl'), ['stop', '-D', dir, '-m', 'immediate', '-w']);
    rmSync(dirname(r.started!.socketDir), { recursive: true, force: true });
  }
});

test('misuse is refused before anything is written, saying what is reachable', async () => {
  const dir = join(work, 'misuse');
  const cases: [string[], number, RegExp][] = [
    [['--target-time', '2026-13-01 10:00:00'], 2, /cannot read the target time .*month 13/],
    [['--target-time', 'yesterday'], 2, /cannot read the target time/],
    [['--target-time', marks.time!, '--target-xid', '5'], 2, /give one recovery target/],
    [['--target-action', 'pause'], 2, /needs a recovery target/],
    [['--target-time', marks.beforeB1!], 8, /before the earliest reachable point, .* \(the end of the oldest backup/],
    [
      ['--target-time', new Date(Date.now() + 3600_000).toISOString()],
      8,
      /past the latest reachable point: the last transaction in the archived WAL ended at/,
    ],
    [['--target-lsn', 'FF/0'], 8, /past the latest reachable point, [0-9A-F]+\/[0-9A-F]+ \(the start of the last WAL record/],
    [['--target-name', 'no_such_point'], 8, /no restore point named "no_such_point"/],
    [['--target-xid', '999999'], 8, /transaction 999999 did not commit or abort in the archived WAL/],
    [['--target-timeline', '7'], 8, /timeline 7 does not exist .* no 00000007\.history/],
    [[ids.B2!, '--target-name', 'before_batch4'], 8, /before the end of backup/],
  ];
  for (const [args, code, message] of cases) {
    const run = await cli(['restore', '--to', dir, ...args]);
    assert.equal(run.code, code, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message, args.join(' '));
    assert.equal(existsSync(dir), false, `${args.join(' ')}: nothing written`);
  }
  // The API refuses the same way (PgkeepError with a stable code).
  await assert.rejects(
    restore(opts('misuse-api', { target: { kind: 'lsn', lsn: 0xff_0000_0000n } })),
    (e: unknown) => e instanceof PgkeepError && e.code === 'NOT_FOUND',
  );
  assert.equal(existsSync(join(work, 'misuse-api')), false);
});

test('after a promotion, recovery to the latest point follows timeline 2 (from the backup on its history)', async () => {
  // The clone restored to `marks.time` becomes a new primary on timeline 2 and archives into the same repository.
  const clone = await restore(
    opts('tl2-primary', { target: { kind: 'time', time: parseTargetTime(marks.time!) } }, { archiveMode: 'preserve' }),
  );
  assert.equal(clone.recoveryEnd?.timeline, 2);
  assert.equal(clone.archiving.archiveMode, 'on', "--archive-mode preserve keeps the source's archiving");
  const primary = started[started.length - 1]!;
  assert.deepEqual(await primary.query("select current_setting('archive_mode') as m"), [{ m: 'on' }]);
  await batch(primary, 5001, 50, 'tl2');
  const expected = await sum(primary);
  await switchAndWait(primary);
  await primary.stop();

  // A plain restore (no id, no target) recovers from the archive to the latest point: it goes
  // through the same planner, so it takes B1 (on timeline 2's history), not the newer B2, and starts.
  const plain = await restoreAndSum('tl2-plain', undefined);
  assert.equal(plain.data, expected);
  assert.equal(plain.r.snapshotId, ids.B1);
  assert.equal(plain.r.pitr?.timeline, 2);
  assert.match(
    plain.r.pitr?.reason ?? '',
    new RegExp(`newest backup on the history of timeline 2: ${ids.B1} \\(newer backup ${ids.B2} \\(timeline 1\\) is not on it`),
  );
  assert.equal(plain.r.pitr?.target, undefined);
  assert.equal(plain.r.recovery.settings.recovery_target_timeline, 'latest');
  assert.equal(plain.r.recoveryEnd?.state, 'promoted');
  await plain.c.destroy();

  // The CLI's "latest" chooses the same way (nothing started here); --archive-mode off is written.
  const latest = await cli(['--json', 'restore', 'latest', '--to', join(work, 'tl2-cli-latest'), '--archive-mode', 'off']);
  assert.equal(latest.code, 0, latest.stderr);
  const lr = JSON.parse(latest.stdout) as RestoreResult;
  assert.equal(lr.snapshotId, ids.B1);
  assert.equal(lr.archiving.option, 'off');
  assert.match(readFileSync(join(work, 'tl2-cli-latest', 'postgresql.auto.conf'), 'utf8'), /^archive_mode = 'off'$/m);
  const text = await cli(['restore', '--to', join(work, 'tl2-cli-text'), '--archive-mode', 'off', '--no-sync']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^archiving: off \(archive_mode = off in postgresql\.auto\.conf\)/m);
  assert.match(text.stdout, /^point in time: the latest archived point, then promote; timeline 2$/m);

  // An explicit id that is not on timeline 2's history is refused before anything is written.
  const dir = join(work, 'tl2-b2');
  await assert.rejects(
    restore(opts('tl2-b2', undefined, { id: ids.B2 })),
    (e: unknown) =>
      e instanceof PgkeepError &&
      e.code === 'NOT_FOUND' &&
      new RegExp(`backup ${ids.B2} \\(timeline 1, .*\\) is not on the history of timeline 2`).test(e.message) &&
      /--target-timeline current/.test(e.hint ?? ''),
  );
  const refused = await cli(['restore', ids.B2!, '--to', dir]);
  assert.equal(refused.code, 8, refused.stderr);
  assert.match(refused.stderr, /is not on the history of timeline 2, the latest timeline/);
  assert.equal(existsSync(dir), false, 'nothing written');
  const bad = await cli(['restore', '--to', dir, '--archive-mode', 'maybe']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid --archive-mode "maybe"/);

  const { r, data, c } = await restoreAndSum('tl2-latest', { timeline: 'latest' });
  assert.equal(data, expected, "the writes of the new primary on timeline 2 are there, the old timeline's later ones not");
  assert.equal(r.pitr?.timeline, 2);
  assert.equal(r.pitr?.snapshotId, ids.B1, "B2 was taken on timeline 1 after the branch point: not on timeline 2's history");
  assert.equal(r.recoveryEnd?.state, 'promoted');
  const [tl] = await c.query<{ t: number }>('select timeline_id as t from pg_control_checkpoint()');
  assert.ok(tl!.t >= 2);

  // --target-timeline 1 follows the original timeline to its latest point.
  const one = await restoreAndSum('tl1-latest', { timeline: 1 });
  assert.equal(one.data, at.end);
  assert.equal(one.r.pitr?.snapshotId, ids.B2);
});
