/**
 * A restore without a target recovers to the end of what the repository's archive holds, from
 * any kind of backup, and never past a known gap: one source cluster archiving through the real
 * CLI (archive_command = pgkeep wal push %p).
 *
 * 1. a gap in the archive (a middle segment moved away): "the latest point" is refused naming the
 *    gap, nothing written; a --target-lsn before the gap recovers; one after it is refused naming
 *    the last record reachable before the gap;
 * 2. a cold backup, then archived WAL: recovered through the archive, on a new timeline;
 * 3. last (its restored server archives a new timeline into the repository): a standalone backup,
 *    then archived WAL: `restore latest` recovers all of it, ends on a new timeline, and its
 *    archiver pushes that timeline into the same repository without a collision.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser } from '../pg/server-user.js';
import { PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';
import { backup } from '../backup/index.js';
import { faultTest } from '../test-support/faults.js';
import { parseLsn, segmentOfLsn } from '../pg/lsn.js';
import { walObjectName } from '../holdings/wal-layout.js';
import { archivingSource, batch as batchOf, CLI, recoveryRestoreOptions, sum, switchAndWait } from '../test-support/archiving-source.js';
import { restore, type PitrRequest, type RestoreOptions, type RestoreResult } from './index.js';

let work: string;
let repoDir: string;
let repo: Repository;
let src: LocalCluster;
const started: LocalCluster[] = [];

/** 100 rows into t. */
const batch = (c: LocalCluster, from: number, tag: string) => batchOf(c, from, 100, tag);

async function insertLsn(c: LocalCluster): Promise<string> {
  return (await c.query<{ l: string }>('select pg_current_wal_insert_lsn()::text as l'))[0]!.l;
}

async function takeBackup(method: 'stream' | 'cold', standalone = false): Promise<string> {
  const b = await backup({ repo, clusterName: 'test', cluster: src.connectionSettings(), method, standalone, jobs: 2 });
  chownTreeToServerUser(repoDir); // the archiver and restore_command run as the server's OS user
  return b.snapshotId;
}

function opts(name: string, pitr: PitrRequest | undefined, extra: Partial<RestoreOptions> = {}): RestoreOptions {
  return recoveryRestoreOptions({ repo, repoDir, work, started }, name, pitr, { sync: false, ...extra });
}

async function timelineOf(c: LocalCluster): Promise<number> {
  return (await c.query<{ t: number }>('select timeline_id as t from pg_control_checkpoint()'))[0]!.t;
}

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PGKEEP_')) delete env[k];
  const r = spawnSync(process.execPath, [CLI, '--repo', repoDir, '--cluster', 'test', ...args], { env, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The archived object file of a segment in the posix repository. */
function archivedFile(segment: string): string {
  const walk = (dir: string): string | undefined => {
    for (const n of readdirSync(dir)) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) {
        const f = walk(p);
        if (f) return f;
      } else if (n.startsWith(`${segment}.`)) return p;
    }
    return undefined;
  };
  const f = walk(join(repoDir, 'wal'));
  assert.ok(f, `${segment} is archived`);
  return f;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pgkeep-recover-end-test-'));
  ({ repoDir, repo, src } = await archivingSource(work, 100));
});

after(async () => {
  for (const c of started) await c.destroy().catch(() => {});
  await repo?.close();
  await src?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

faultTest(
  'a gap in the archive: the latest point is refused naming it; a target before it recovers, one after it names the last reachable record',
  async () => {
    await takeBackup('stream');
    await batch(src, 1001, 'before-gap');
    const beforeGap = await sum(src);
    const lsnBeforeGap = await insertLsn(src);
    const lastBefore = await switchAndWait(src);
    await batch(src, 1101, 'in-gap');
    const missing = await switchAndWait(src);
    await batch(src, 1201, 'after-gap');
    const lsnAfterGap = await insertLsn(src);
    const newest = await switchAndWait(src);
    const file = archivedFile(missing);
    const aside = join(work, 'aside');
    renameSync(file, aside);
    try {
      // No target: refused before anything is written, naming the gap and what to do.
      const dir = join(work, 'gap-latest');
      await assert.rejects(restore(opts('gap-latest', undefined)), (e: unknown) => {
        assert.ok(e instanceof PgkeepError, String(e));
        assert.equal(e.code, 'NOT_FOUND');
        assert.match(e.message, new RegExp(`gap after ${lastBefore}`));
        assert.match(e.message, new RegExp(`${missing} is missing`));
        assert.match(e.message, new RegExp(`\\b${newest}\\b`), 'the newest archived segment, beyond the gap');
        assert.match(e.hint ?? '', /--target-lsn [0-9A-F]+\/[0-9A-F]+/);
        return true;
      });
      assert.equal(existsSync(dir), false, 'nothing written');
      const run = cli(['restore', '--to', dir]);
      assert.equal(run.code, 8, run.stderr);
      assert.match(run.stderr, new RegExp(`gap after ${lastBefore}`));
      assert.equal(existsSync(dir), false, 'nothing written');

      // An explicit target before the gap is accepted, and recovers to it.
      const r = await restore(
        opts('gap-before', { target: { kind: 'lsn', lsn: parseLsn(lsnBeforeGap) }, action: 'promote', timeline: 'latest' }),
      );
      assert.equal(await sum(started[started.length - 1]!), beforeGap);
      assert.match(r.warnings.join('\n'), new RegExp(`gap after ${lastBefore}`), 'the gap is said even when the target is before it');

      // A target after the gap: the reachable point named is the last record before the gap.
      await assert.rejects(
        restore(opts('gap-after', { target: { kind: 'lsn', lsn: parseLsn(lsnAfterGap) }, action: 'promote', timeline: 'latest' })),
        (e: unknown) => {
          assert.ok(e instanceof PgkeepError && e.code === 'NOT_FOUND', String(e));
          const m = /latest reachable point, ([0-9A-F]+\/[0-9A-F]+)/.exec(e.message);
          assert.ok(m, e.message);
          const seg = segmentOfLsn(parseLsn(m[1]!), 16 * 1024 * 1024);
          assert.equal(seg, segmentOfLsn(parseLsn(lsnBeforeGap), 16 * 1024 * 1024), `${m[1]} is in ${lastBefore}`);
          assert.match(e.message, new RegExp(`gap after ${lastBefore}`));
          assert.match(e.message, new RegExp(`${missing} is missing`));
          return true;
        },
      );
      assert.equal(existsSync(join(work, 'gap-after')), false);
    } finally {
      renameSync(aside, file);
    }
  },
);

faultTest(
  'a damaged archived segment ends recovery early: a restore to the latest point with --start fails instead of reporting success',
  async () => {
    await batch(src, 5001, 'in-damaged');
    const damaged = await switchAndWait(src);
    await batch(src, 5101, 'after-damaged');
    const last = await switchAndWait(src);
    const [{ sysid }] = (await src.query<{ sysid: string }>('select system_identifier::text as sysid from pg_control_system()')) as [
      { sysid: string },
    ];
    const name = walObjectName('test', sysid, damaged);
    const original = await repo.getObject(name);
    const bad = Buffer.from(original);
    bad.fill(0, 8192); // its first page, then no WAL: PostgreSQL takes it for the end of WAL
    await repo.putObject(name, bad);
    chownTreeToServerUser(repoDir); // restore_command runs as the server's OS user
    try {
      await assert.rejects(restore(opts('damaged', undefined)), (e: unknown) => {
        assert.ok(e instanceof PgkeepError, String(e));
        assert.equal(e.code, 'DATA_INTEGRITY', e.message);
        assert.match(
          e.message,
          new RegExp(
            `promoted, before the end of the archived WAL it was planned to reach \\(the record at [0-9A-F]+/[0-9A-F]+, in ${last}\\)`,
          ),
        );
        return true;
      });
    } finally {
      await repo.putObject(name, original);
      chownTreeToServerUser(repoDir);
    }
  },
);

test('a cold backup, then archived WAL: a restore without a target recovers all of it, on a new timeline', async () => {
  await src.stop('fast');
  let id: string;
  try {
    id = await takeBackup('cold');
  } finally {
    await src.start();
  }
  await batch(src, 2001, 'after-cold');
  const expected = await sum(src);
  const last = await switchAndWait(src);
  const r = await restore(opts('cold', undefined, { id }));
  const c = started[started.length - 1]!;
  assert.equal(await sum(c), expected, 'the rows committed and archived after the cold backup are there');
  assert.equal(r.recovery.mode, 'archive-recovery');
  assert.equal(r.recoveryEnd?.state, 'promoted');
  assert.ok((await timelineOf(c)) >= 2, 'a new timeline');
  assert.equal(r.wal?.fromArchive?.last, last);
  await c.destroy();
});

test('a standalone backup, then archived WAL: restore latest recovers all of it, ends on a new timeline, and archives it without collision', async () => {
  const id = await takeBackup('stream', true);
  await batch(src, 3001, 'after-standalone');
  const expected = await sum(src);
  const last = await switchAndWait(src);

  // The CLI says which WAL is used, and up to where (nothing started).
  const text = cli(['restore', 'latest', '--to', join(work, 'standalone-text'), '--archive-mode', 'off', '--no-sync']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    new RegExp(
      `^WAL: the backup's own \\(pg_wal/ in the snapshot: [0-9A-F]{24} \\.\\. [0-9A-F]{24}\\), then the archive \\(timeline 1: [0-9A-F]{24} \\.\\. ${last}\\)$`,
      'm',
    ),
  );
  assert.match(text.stdout, /^ {2}up to: LSN [0-9A-F]+\/[0-9A-F]+ \(the last record in /m);
  const json = cli(['--json', 'restore', 'latest', '--to', join(work, 'standalone-json'), '--archive-mode', 'off', '--no-sync']);
  assert.equal(json.code, 0, json.stderr);
  const jr = JSON.parse(json.stdout) as RestoreResult;
  assert.equal(jr.snapshotId, id);
  assert.equal(jr.wal?.fromArchive?.last, last);
  assert.ok(jr.wal?.fromBackup, "the snapshot's own WAL is listed");

  // Started, keeping the source's archiving: the new timeline goes into the same repository.
  const r = await restore(opts('standalone', undefined, { archiveMode: 'preserve' }));
  const c = started[started.length - 1]!;
  assert.equal(r.snapshotId, id);
  assert.equal(await sum(c), expected, 'the rows committed and archived after the standalone backup are there');
  assert.equal(r.recoveryEnd?.state, 'promoted');
  const tli = await timelineOf(c);
  assert.ok(tli >= 2, 'a new timeline');
  await batch(c, 4001, 'restored');
  const pushed = await switchAndWait(c);
  assert.equal(parseInt(pushed.slice(0, 8), 16), tli, `${pushed} is on the new timeline`);
  const [a] = await c.query<{ failed: number }>('select failed_count::int as failed from pg_stat_archiver');
  assert.equal(a!.failed, 0, `the archiver never failed: ${c.logTail(10)}`);
});
