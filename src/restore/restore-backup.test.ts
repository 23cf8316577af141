/**
 * Restores of real backups taken by `backup()` (stream, local, cold), checked by starting them,
 * comparing data with the source, PostgreSQL's pg_verifybackup and pg_amcheck.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findPgTool, pgToolPath } from '../pg/bin.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser, ensureTraversable, runProgram } from '../pg/server-user.js';
import type { Repository } from '../repo/index.js';
import { newPosixRepo } from '../repo/test-utils.js';
import { backup, type BackupMethod } from '../backup/index.js';
import { restore, type RestoreOptions, type RestoreResult } from './index.js';
import { promotedToNewTimeline } from './test-promoted.js';

const FRONT = fileURLToPath(new URL('../../bin/pgkeep', import.meta.url));

let work: string;
let src: LocalCluster;
let repo: Repository;
let repoDir: string;
let tsDir: string;
let expected: Record<string, string>;

async function tableSums(c: LocalCluster, tables = ['small', 'big', 'in_ts']): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of tables) {
    const [row] = await c.query<{ m: string; n: string }>(
      `select md5(coalesce(string_agg(x::text, ',' order by x::text), '')) as m, count(*) as n from ${t} x`,
      [],
      'app',
    );
    out[t] = `${row!.n}:${row!.m}`;
  }
  return out;
}

async function backupAndRestore(
  method: BackupMethod,
  standalone: boolean,
  name: string,
  access: RestoreOptions['access'] = { repo: repoDir, cluster: 'main' },
): Promise<{ dir: string; ts: string; r: RestoreResult }> {
  const b = await backup({ repo, clusterName: 'main', cluster: src.connectionSettings(), method, standalone, jobs: 2 });
  const dir = join(work, name);
  const ts = join(work, `${name}-ts`);
  const r = await restore({
    repo,
    cluster: 'main',
    id: b.snapshotId,
    to: dir,
    jobs: 2,
    tablespaceMap: [{ from: tsDir, to: ts }],
    access,
  });
  return { dir, ts, r };
}

/** pg_verifybackup on a restored directory; returns its output, asserts exit 0. */
async function verifyBackup(dir: string, args: string[]): Promise<string> {
  const tool = await findPgTool('pg_verifybackup', { minMajor: src.major });
  const r = await runProgram(tool.path, [...args, dir]);
  assert.equal(r.code, 0, `pg_verifybackup ${args.join(' ')} ${dir}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function withStarted<T>(dir: string, fn: (c: LocalCluster) => Promise<T>): Promise<T> {
  const c = await LocalCluster.attach(dir);
  try {
    await c.start();
    return await fn(c);
  } finally {
    await c.destroy();
  }
}

/**
 * This cluster never archived: a standalone backup recovers from its own pg_wal/ only
 * (restore_command = false, no repository access needed), and still ends on a new timeline.
 */
function assertOwnWalOnly(dir: string, r: RestoreResult): void {
  assert.equal(r.recovery.mode, 'archive-recovery');
  assert.equal(r.recovery.settings.restore_command, 'false');
  assert.equal(r.wal?.ownWalOnly, true);
  assert.equal(r.wal?.fromArchive, undefined);
  assert.ok(existsSync(join(dir, 'recovery.signal')));
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pgkeep-restore-backup-test-'));
  tsDir = join(work, 'ts1');
  mkdirSync(tsDir);
  chownTreeToServerUser(tsDir);
  ensureTraversable(tsDir);
  src = await LocalCluster.create({ settings: { fsync: false } });
  await src.start();
  await src.exec(`create tablespace ts1 location '${tsDir}'`);
  await src.exec('create database app');
  await src.exec(
    `
    create table small (id int primary key, v text);
    insert into small select g, 'row ' || g from generate_series(1, 100) g;
    create table big (id int primary key, payload text);
    insert into big select g, repeat(md5(g::text), 4) from generate_series(1, 20000) g;
    create table in_ts (id int, v text) tablespace ts1;
    insert into in_ts select g, md5(g::text) from generate_series(1, 2000) g;
    create unlogged table scratch (id int);
    insert into scratch select generate_series(1, 100);
    create table log (id serial primary key, at timestamptz default now());
  `,
    'app',
  );
  expected = await tableSums(src);
  repoDir = join(work, 'repo');
  repo = await newPosixRepo(repoDir, { chunkSize: 128 * 1024 });
});

after(async () => {
  await repo?.close();
  await src?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('stream --standalone with writes during the backup: pg_verifybackup passes (WAL too), starts consistent, pg_amcheck clean', async () => {
  let writing = true;
  let inserted = 0;
  const writer = (async () => {
    while (writing) {
      await src.query('insert into log default values', [], 'app');
      inserted++;
    }
  })();
  let res: Awaited<ReturnType<typeof backupAndRestore>>;
  try {
    res = await backupAndRestore('stream', true, 'stream-standalone');
  } finally {
    writing = false;
    await writer;
  }
  const { dir, ts, r } = res;
  assertOwnWalOnly(dir, r);
  assert.ok(existsSync(join(dir, 'backup_manifest')) && existsSync(join(dir, 'backup_label')));
  const oid = r.tablespaces[0]!.oid;
  assert.equal(readFileSync(join(dir, 'tablespace_map'), 'utf8'), `${oid} ${ts}\n`);
  // The WAL the backup needs is in pg_wal/, so pg_verifybackup also parses it. tablespace_map is
  // ignored: it was rewritten for the new tablespace location, so it differs from the manifest.
  assert.match(
    await verifyBackup(dir, ['-i', 'tablespace_map', '-i', 'recovery.signal', '-i', 'postgresql.auto.conf']),
    /backup successfully verified/,
  );
  await withStarted(dir, async (c) => {
    await promotedToNewTimeline(c);
    const [st] = await c.query<{ rec: boolean; loc: string }>(`select pg_is_in_recovery() as rec, pg_tablespace_location(${oid}) as loc`);
    assert.deepEqual(st, { rec: false, loc: ts });
    assert.deepEqual(await tableSums(c), expected);
    const [log] = await c.query<{ n: string; m: number | null }>('select count(*) as n, max(id) as m from log', [], 'app');
    assert.equal(Number(log!.n), log!.m ?? 0, 'every insert up to the backup end, no gaps');
    assert.ok(Number(log!.n) <= inserted);
    const unlogged = await c.query<{ n: string }>('select count(*) as n from scratch', [], 'app');
    assert.equal(unlogged[0]!.n, '0', 'unlogged tables come back empty');
    const amcheck = await findPgTool('pg_amcheck', { minMajor: c.major });
    const check = await runProgram(
      amcheck.path,
      ['-h', c.socketDir, '-p', String(c.port), '-U', 'postgres', '--all', '--install-missing', '--heapallindexed'],
      { asServerUser: false },
    );
    assert.equal(check.code, 0, `pg_amcheck: ${check.stdout}${check.stderr}`);
  });
});

test('stream without --standalone: pg_verifybackup -n passes; recovery.signal and a restore_command the server reads as written', async () => {
  const passFile = join(work, 'pass phrase');
  writeFileSync(passFile, 'secret\n', { mode: 0o600 });
  const { dir, r } = await backupAndRestore('stream', false, 'stream-archive', {
    repo: repoDir,
    cluster: 'main',
    passphraseFile: passFile,
  });
  // No WAL is stored with such a backup (recovery fetches it from the archive with restore_command),
  // so pg_verifybackup's WAL check (pg_waldump over pg_wal/) cannot pass: -n skips it.
  assert.match(
    await verifyBackup(dir, ['-n', '-i', 'tablespace_map', '-i', 'recovery.signal', '-i', 'postgresql.auto.conf']),
    /backup successfully verified/,
  );
  assert.equal(r.recovery.mode, 'archive-recovery');
  assert.ok(existsSync(join(dir, 'recovery.signal')));
  const cmd = r.recovery.settings.restore_command!;
  assert.equal(
    cmd,
    `PGKEEP_NODE=${process.execPath} ${FRONT} --repo ${repoDir} --cluster main --passphrase-file '${passFile}' ` +
      `wal get --prefetch 8 --system-id ${(await src.controlData())['Database system identifier']} %f %p`,
  );
  assert.match(
    readFileSync(join(dir, 'postgresql.auto.conf'), 'utf8'),
    /^restore_command = '.* wal get --prefetch 8 --system-id \d+ %f %p'$/m,
  );
  // The server parses the settings back to exactly these commands (postgres -C reads the configuration only).
  const pg = await runProgram(pgToolPath(src.binDir, 'postgres'), ['-D', dir, '-C', 'restore_command']);
  assert.equal(pg.stdout.trim(), cmd, pg.stderr);
  const end = await runProgram(pgToolPath(src.binDir, 'postgres'), ['-D', dir, '-C', 'recovery_end_command']);
  assert.equal(end.stdout.trim(), `PGKEEP_NODE=${process.execPath} ${FRONT} --cluster main wal spool-clean`, end.stderr);
  assert.equal(statSync(join(dir, 'recovery.signal')).uid, statSync(join(dir, 'PG_VERSION')).uid);
  if (process.getuid?.() === 0) {
    // root's 0600 passphrase file and 0700 repository are out of the postgres user's reach: said so.
    assert.match(r.warnings.join('\n'), /the passphrase file .* is not readable by the server's OS user/);
  }
});

test('local --standalone restores and starts with the same data', async () => {
  const { dir, r } = await backupAndRestore('local', true, 'local-standalone');
  assertOwnWalOnly(dir, r);
  await withStarted(dir, async (c) => {
    await promotedToNewTimeline(c);
    assert.deepEqual(await tableSums(c), expected);
  });
});

test('cold backup (via backup --method cold) restores and starts with the same data', async () => {
  await src.stop('fast');
  try {
    const { dir, r } = await backupAndRestore('cold', false, 'cold');
    assert.equal(r.recovery.mode, 'none');
    assert.equal(existsSync(join(dir, 'recovery.signal')), false);
    await withStarted(dir, async (c) => assert.deepEqual(await tableSums(c), expected));
  } finally {
    await src.start();
  }
});
