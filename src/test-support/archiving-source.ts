/**
 * Test helpers (not used by the product): a source cluster that archives through the real CLI
 * (archive_command = pgkeep wal push %p) into a fresh repository, with a table t of 1000 rows
 * whose segment is archived; waiting for a segment to be archived; asserting a PgkeepError.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser, ensureTraversable } from '../pg/server-user.js';
import { PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';
import { newPosixRepo } from '../repo/test-utils.js';

/** Switch to a new segment and wait (60 s at most) until the archiver has shipped the old one. */
export async function switchAndWait(c: LocalCluster): Promise<string> {
  const [row] = await c.query<{ f: string }>('select pg_walfile_name(pg_switch_wal()) as f');
  for (let i = 0; i < 600; i++) {
    const [a] = await c.query<{ w: string | null }>('select last_archived_wal as w from pg_stat_archiver');
    if (a!.w !== null && a!.w.slice(8) >= row!.f.slice(8)) return row!.f;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${row!.f} was not archived; server log:\n${c.logTail(20)}`);
}

/** WORK/repo and a started cluster archiving into it as cluster "test" (caller destroys both). */
export async function createArchivingSource(work: string, cli: string): Promise<{ repoDir: string; repo: Repository; src: LocalCluster }> {
  const repoDir = join(work, 'repo');
  mkdirSync(repoDir);
  ensureTraversable(repoDir);
  const repo = await newPosixRepo(repoDir, { chunkSize: 128 * 1024 });
  chownTreeToServerUser(repoDir);
  const archiveCommand = `env -u PGKEEP_CONFIG ${process.execPath} ${cli} --repo ${repoDir} --cluster test wal push %p`;
  const src = await LocalCluster.create({
    settings: { wal_level: 'replica', archive_mode: 'on', archive_command: archiveCommand, fsync: false, max_wal_senders: 4 },
  });
  await src.start();
  await src.exec("create table t (id int primary key, v text); insert into t select g, 'base-' || g from generate_series(1, 1000) g");
  await switchAndWait(src);
  return { repoDir, repo, src };
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
