/**
 * Helpers for the recovery tests (not used by the product): a source cluster that archives into a
 * fresh posix repository through the real CLI (archive_command = pgkeep wal push %p), a table t
 * (id, v) to write batches into and compare, a bounded wait for a segment to be archived, and an
 * assertion that a promise rejects with a given PgkeepError code.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalCluster, type LocalClusterCreateOptions } from '../pg/local-cluster.js';
import { chownTreeToServerUser, ensureTraversable } from '../pg/server-user.js';
import { PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';
import { newPosixRepo } from '../repo/test-utils.js';

import { PGKEEP_BIN } from './cli.js';
import type { PitrRequest, RestoreOptions } from '../restore/index.js';

export const CLI = PGKEEP_BIN;

/**
 * The repository in work/repo (repository "test") and a started source cluster archiving into it, with t holding `rows` rows.
 * `cluster`: the PostgreSQL major or other server binaries (pgBin), further settings and pg_hba.conf lines.
 */
export async function archivingSource(
  work: string,
  rows: number,
  cluster: Pick<LocalClusterCreateOptions, 'pgBin' | 'major' | 'settings' | 'hba'> = {},
): Promise<{ repoDir: string; repo: Repository; src: LocalCluster }> {
  const repoDir = join(work, 'repo');
  mkdirSync(repoDir);
  ensureTraversable(repoDir);
  const repo = await newPosixRepo(repoDir, { chunkSize: 128 * 1024 });
  chownTreeToServerUser(repoDir);
  const archiveCommand = `env -u PGKEEP_CONFIG ${process.execPath} ${CLI} --repo ${repoDir} --cluster test wal push %p`;
  const src = await LocalCluster.create({
    ...cluster,
    settings: {
      wal_level: 'replica',
      archive_mode: 'on',
      archive_command: archiveCommand,
      fsync: false,
      max_wal_senders: 4,
      ...cluster.settings,
    },
  });
  await src.start();
  await src.exec(`create table t (id int primary key, v text); insert into t select g, 'base-' || g from generate_series(1, ${rows}) g`);
  await switchAndWait(src);
  return { repoDir, repo, src };
}

/** "count:md5" of t. */
export async function sum(c: LocalCluster): Promise<string> {
  const [r] = await c.query<{ n: number; h: string }>(
    "select count(*)::int as n, md5(coalesce(string_agg(id || ':' || v, ',' order by id), '')) as h from t",
  );
  return `${r!.n}:${r!.h}`;
}

export async function batch(c: LocalCluster, from: number, n: number, tag: string): Promise<void> {
  await c.query(`insert into t select g, '${tag}-' || g from generate_series(${from}, ${from + n - 1}) g`);
}

/** Switch to a new segment and wait (at most 60 s) until the one switched from is archived; its name. */
export async function switchAndWait(c: LocalCluster): Promise<string> {
  const [row] = await c.query<{ f: string }>('select pg_walfile_name(pg_switch_wal()) as f');
  for (let i = 0; i < 600; i++) {
    const [a] = await c.query<{ w: string | null }>('select last_archived_wal as w from pg_stat_archiver');
    if (a!.w !== null && a!.w.slice(8) >= row!.f.slice(8)) return row!.f;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${row!.f} was not archived in 60 s; server log:\n${c.logTail(20)}`);
}

/** Await p, which must reject with a PgkeepError of this code (and message); returns it. */
export async function rejectsWithCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<PgkeepError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PgkeepError, `expected a PgkeepError, got ${(e as Error).stack}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

/**
 * Options of a test restore of cluster "test" from the archiving source's repository into
 * `work`/`name`, recovering (`pitr`) and started (each started cluster pushed to `started`), with
 * archive_mode off so the clone never archives into the source's archive; `extra` overrides.
 */
export function recoveryRestoreOptions(
  f: { repo: Repository; repoDir: string; work: string; started: LocalCluster[] },
  name: string,
  pitr: PitrRequest | undefined,
  extra: Partial<RestoreOptions> = {},
): RestoreOptions {
  return {
    repo: f.repo,
    cluster: 'test',
    to: join(f.work, name),
    jobs: 2,
    access: { repo: f.repoDir, cluster: 'test' },
    pitr,
    start: true,
    onStarted: (c) => f.started.push(c),
    archiveMode: 'off',
    ...extra,
  };
}
