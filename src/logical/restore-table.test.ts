/**
 * restore-table end to end: a real server archiving its WAL with `pgkeep wal push`, a physical
 * backup, changes after a recorded moment T, then the table brought back as of T under a new
 * name — through the CLI and through the use case — and the refusals.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { processesNaming } from '../test-support/processes.js';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PgkeepError } from '../errors.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser } from '../pg/server-user.js';
import type { Repository } from '../repo/index.js';
import { newPosixRepo } from '../repo/test-utils.js';
import { backup } from '../backup/index.js';
import { listArchive } from '../holdings/index.js';
import { renderRestoreTable } from '../cli/commands/restore-table.js';
import { restoreTable, type RestoreTableOptions, type RestoreTableResult } from './restore-table/index.js';
import { PGKEEP_BIN, runPgkeep, type CliRun } from '../test-support/cli.js';

const CLI = PGKEEP_BIN;

let work: string;
let repoDir: string;
let sandboxes: string;
let repo: Repository;
let src: LocalCluster;
/** Before the backup (no backup ended before it). */
let beforeBackup: string;
/** The moment the table is restored to. */
let T: string;
let atT: string;
let liveNow: string;
/** in_ts (in tablespace ts1) and parent_t (an inheritance parent) at T. */
let inTsAtT: string;
let parentOwnAtT: number;

function cli(args: string[]): Promise<CliRun> {
  return runPgkeep(['--repo', repoDir, '--cluster', 'main', '-d', src.connectionString('app'), ...args]);
}

/** Row count and md5 of the rows in id order. */
async function digest(table: string): Promise<string> {
  const [r] = await src.query<{ n: string; m: string }>(
    `select count(*)::text as n, md5(coalesce(string_agg(format('%s|%s|%s|%s', id, customer_id, amount, note), ',' order by id), '')) as m from ${table}`,
    [],
    'app',
  );
  return `${r!.n}:${r!.m}`;
}

/** Row count and md5 of (id, v) in id order, the table's own rows. */
async function tableDigest(table: string): Promise<string> {
  const [r] = await src.query<{ n: string; m: string }>(
    `select count(*)::text as n, md5(coalesce(string_agg(format('%s|%s', id, v), ',' order by id), '')) as m from only ${table}`,
    [],
    'app',
  );
  return `${r!.n}:${r!.m}`;
}

async function nowIso(): Promise<string> {
  const [r] = await src.query<{ t: string }>(`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as t`);
  return r!.t;
}

async function archiveAll(): Promise<void> {
  const [row] = await src.query<{ f: string }>('select pg_walfile_name(pg_switch_wal()) as f');
  for (let i = 0; i < 600; i++) {
    const [a] = await src.query<{ w: string | null }>('select last_archived_wal as w from pg_stat_archiver');
    if (a!.w !== null && a!.w >= row!.f) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`segment ${row!.f} was not archived:\n${src.logTail(20)}`);
}

function options(o: Partial<RestoreTableOptions>): RestoreTableOptions {
  return {
    repo,
    clusterName: 'main',
    cluster: src.connectionSettings('app'),
    access: { repo: repoDir, cluster: 'main' },
    table: 'public.orders',
    asOf: T,
    sandboxParent: sandboxes,
    ...o,
  };
}

async function rejects(o: Partial<RestoreTableOptions>, code: string, message: RegExp): Promise<PgkeepError> {
  let err: unknown;
  try {
    await restoreTable(options(o));
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof PgkeepError, `expected a PgkeepError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.match(err.message, message);
  return err;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pgkeep-restore-table-test-'));
  repoDir = join(work, 'repo');
  sandboxes = join(work, 'sandboxes');
  mkdirSync(repoDir);
  mkdirSync(sandboxes);
  mkdirSync(join(work, 'ts1'));
  repo = await newPosixRepo(repoDir);
  chownTreeToServerUser(work);
  const archiveCommand = `env -u PGKEEP_CONFIG ${process.execPath} ${CLI} --repo ${repoDir} --cluster main wal push %p`;
  src = await LocalCluster.create({
    settings: { wal_level: 'replica', archive_mode: 'on', archive_command: archiveCommand, fsync: false, archive_timeout: 0 },
  });
  await src.start();
  // A user tablespace, as on many production hosts: the sandbox must not collide with it.
  await src.exec(`create tablespace ts1 location '${join(work, 'ts1')}'`);
  await src.exec('create database app');
  await src.exec(
    `
    create table customers (id int primary key, name text);
    insert into customers select g, 'customer ' || g from generate_series(1, 10) g;
    create table orders (
      id serial primary key,
      customer_id int not null references customers (id),
      amount numeric(10, 2) not null constraint orders_amount_positive check (amount >= 0),
      note text
    );
    create index orders_customer_idx on orders (customer_id);
    create unique index orders_note_key on orders (note);
    create statistics orders_stats (dependencies) on customer_id, amount from orders;
    insert into orders (customer_id, amount, note) select 1 + g % 10, g * 1.5, 'order ' || g from generate_series(1, 200) g;
    create schema archive;
    create table orders_taken (x int);
    create table in_ts (id int primary key, v text) tablespace ts1;
    insert into in_ts select g, 'v' || g from generate_series(1, 30) g;
    create table parent_t (id int, v text);
    create table child_t () inherits (parent_t);
    insert into parent_t select g, 'parent' from generate_series(1, 7) g;
    insert into child_t select g, 'child' from generate_series(100, 140) g;
    create role lowpriv login;
    grant create on schema archive to lowpriv;
  `,
    'app',
  );
  // The first push (as the server's OS user) records the cluster's identity in the repository.
  await archiveAll();
  beforeBackup = await nowIso();
  await new Promise((r) => setTimeout(r, 20));
  await backup({ repo, clusterName: 'main', cluster: src.connectionSettings(), method: 'stream' });
  chownTreeToServerUser(repoDir);

  // Changes that belong to T's state.
  await src.exec(
    `update orders set note = note || ' (edited before T)' where id <= 10;
    insert into orders (customer_id, amount, note) select 2, g, 'late order ' || g from generate_series(1, 20) g;`,
    'app',
  );
  atT = await digest('orders');
  await src.exec(`insert into in_ts values (31, 'before T'); insert into parent_t values (8, 'parent before T');`, 'app');
  inTsAtT = await tableDigest('in_ts');
  parentOwnAtT = 8;
  T = await nowIso();
  await new Promise((r) => setTimeout(r, 20));
  // The accident, and life going on.
  await src.exec(
    `delete from orders where id between 50 and 120;
    insert into orders (customer_id, amount, note) select 3, g, 'after T ' || g from generate_series(1, 15) g;
    update orders set amount = 0 where id <= 5;`,
    'app',
  );
  liveNow = await digest('orders');
  assert.notEqual(liveNow, atT);
  await src.exec("drop table in_ts; insert into parent_t values (9, 'after T');", 'app');
  await archiveAll();
});

after(async () => {
  await repo?.close();
  await src?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('CLI: the table comes back as of T under <name>_restored, with its indexes; the live table is untouched', async () => {
  const r = await cli([
    '--json',
    'restore-table',
    '--table',
    'public.orders',
    '--as-of',
    T,
    '--database',
    'app',
    '--sandbox-dir',
    sandboxes,
  ]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const res = JSON.parse(r.stdout) as RestoreTableResult;
  assert.equal(res.restoredAs, 'public.orders_restored');
  assert.equal(res.rows, Number(atT.split(':')[0]));
  assert.deepEqual(
    res.steps.map((s) => s.step),
    ['check', 'choose-backup', 'restore-sandbox', 'recover', 'prepare', 'dump', 'load', 'verify', 'drop-sandbox'],
  );
  assert.equal(await digest('orders_restored'), atT, 'the rows as of T');
  assert.equal(await digest('orders'), liveNow, 'the live table keeps its current rows');

  const indexes = (
    await src.query<{ i: string }>(
      `select indexname as i from pg_indexes where schemaname = 'public' and tablename = 'orders_restored' order by 1`,
      [],
      'app',
    )
  ).map((x) => x.i);
  assert.deepEqual(indexes, ['orders_restored_customer_idx', 'orders_restored_note_key', 'orders_restored_pkey']);
  const cons = await src.query<{ c: string; t: string }>(
    `select conname as c, contype::text as t from pg_constraint where conrelid = 'orders_restored'::regclass order by 1`,
    [],
    'app',
  );
  assert.deepEqual(
    cons.map((c) => `${c.t}:${c.c}`),
    ['c:orders_amount_positive', 'p:orders_restored_pkey'],
    'check and primary key kept, no foreign key to customers',
  );
  const [stx] = await src.query<{ n: string }>(
    `select count(*)::text as n from pg_statistic_ext where stxrelid = 'orders_restored'::regclass and stxname = 'orders_restored_stats'`,
    [],
    'app',
  );
  assert.equal(stx!.n, '1');
  // Its own sequence, continuing after the restored rows; the original's untouched.
  const [seq] = await src.query<{ s: string }>(`select pg_get_serial_sequence('orders_restored', 'id') as s`, [], 'app');
  assert.equal(seq!.s, 'public.orders_restored_id_seq');
  const [next] = await src.query<{ id: number; max: number }>(
    `insert into orders_restored (customer_id, amount) values (1, 1)
    returning id, (select max(id) from orders_restored) as max`,
    [],
    'app',
  );
  assert.ok(next!.id > 220, `next id ${next!.id}`);
  assert.equal(readdirSync(sandboxes).length, 0, 'the sandbox is removed');

  // The promoted sandbox archived nothing: no new timeline in the production archive.
  for (const system of (await listArchive(repo, 'main')).values()) {
    assert.equal(system.histories.size, 0, 'no history file');
    assert.ok(
      system.files.every((f) => f.file.timeline === 1),
      system.files.map((f) => f.object).join(', '),
    );
  }
  const text = renderRestoreTable(res);
  process.stderr.write(`${text}\n`);
  assert.match(text, /^restored public\.orders as of .* into public\.orders_restored \(database app\): \d+ rows/);
  assert.match(text, /index orders_pkey -> orders_restored_pkey/);
  assert.match(text, /note: foreign key orders_customer_id_fkey \(to customers\) left out/);
});

test('--as SCHEMA.NAME: the copy lands in another schema under that name; --keep-sandbox keeps it stopped', async () => {
  const steps: string[] = [];
  // pg_bin: the sandbox runs the server binaries found there (links to the test cluster's, as an unusual install would be)
  const pgBin = mkdtempSync(join(tmpdir(), 'pgkeep-pg-bin-'));
  chmodSync(pgBin, 0o755);
  for (const tool of ['initdb', 'pg_ctl', 'postgres']) symlinkSync(join(src.binDir, tool), join(pgBin, tool));
  const res = await restoreTable(
    options({
      as: 'archive.orders_at_t',
      keepSandbox: true,
      onProgress: (e) => {
        if (e.state === 'done') steps.push(e.step);
      },
      cluster: { ...src.connectionSettings('app'), pgBin },
    }),
  ).finally(() => rmSync(pgBin, { recursive: true, force: true }));
  try {
    assert.equal(res.restoredAs, 'archive.orders_at_t');
    assert.equal(await digest('archive.orders_at_t'), atT);
    assert.equal(steps.at(-1), 'drop-sandbox');
    const indexes = (
      await src.query<{ i: string }>(
        `select indexname as i from pg_indexes where schemaname = 'archive' and tablename = 'orders_at_t' order by 1`,
        [],
        'app',
      )
    ).map((x) => x.i);
    assert.deepEqual(indexes, ['orders_at_t_customer_idx', 'orders_at_t_note_key', 'orders_at_t_pkey']);
    assert.match(res.left.join('\n'), /foreign key orders_customer_id_fkey \(to customers\) left out/);
    assert.equal(await digest('orders'), liveNow);
    assert.ok(res.sandbox, 'the kept sandbox is reported');
    assert.ok(existsSync(join(res.sandbox.dataDir, 'PG_VERSION')));
    assert.equal(existsSync(join(res.sandbox.dataDir, 'postmaster.pid')), false, 'stopped');
    const spool = join(res.sandbox.dataDir, 'pg_wal', 'pgkeep-spool');
    const running = processesNaming(spool);
    assert.deepEqual(running, [], 'no prefetcher left running in the kept sandbox');
    assert.match(res.sandbox.startCommand, /pg_ctl.* start -D /);
    assert.ok(res.sandbox.startCommand.includes(join(pgBin, 'pg_ctl')), `the sandbox ran pg_bin's server: ${res.sandbox.startCommand}`);
  } finally {
    for (const d of readdirSync(sandboxes)) rmSync(join(sandboxes, d), { recursive: true, force: true });
    if (res.sandbox) rmSync(dirname(res.sandbox.logFile), { recursive: true, force: true });
  }
});

test('refused before any work: an existing new name (CONFLICT), a bad or future time (USAGE), no backup before the time', async () => {
  await rejects({ as: 'orders_taken' }, 'CONFLICT', /orders_taken already exists in database app/);
  await rejects({ as: 'orders' }, 'CONFLICT', /public\.orders already exists in database app \(table\)/);
  await rejects({ as: 'archive.orders_at_t' }, 'CONFLICT', /archive\.orders_at_t already exists/);
  await rejects({ asOf: '2026-13-45 10:00' }, 'USAGE', /cannot read the target time/);
  await rejects({ asOf: 'yesterday noon' }, 'USAGE', /cannot read the target time/);
  await rejects({ asOf: '2999-01-01T00:00:00Z' }, 'USAGE', /in the future/);
  await rejects({ asOf: beforeBackup, as: 'orders_early' }, 'NOT_FOUND', /before the earliest reachable point/);
  assert.equal(readdirSync(sandboxes).length, 0, 'no sandbox was made');

  const bad = await cli(['restore-table', '--table', 'orders', '--as-of', 'not a time', '--database', 'app']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /cannot read the target time "not a time"/);
  const taken = await cli(['restore-table', '--table', 'orders', '--as-of', T, '--database', 'app', '--as', 'orders_taken']);
  assert.equal(taken.code, 11, taken.stderr);
});

test('a table that did not exist at that time: NOT_FOUND naming the backup and time; the sandbox is removed', async () => {
  await src.exec('create table newer (id int)', 'app');
  const r = await cli(['restore-table', '--table', 'newer', '--as-of', T, '--database', 'app', '--sandbox-dir', sandboxes]);
  assert.equal(r.code, 8, r.stderr);
  assert.match(r.stderr, /table public\.newer did not exist in database app at the target time \(backup \S+ recovered to /);
  assert.ok(r.stderr.includes(T.slice(0, 10)), r.stderr);
  process.stderr.write(r.stderr);
  assert.equal(readdirSync(sandboxes).length, 0, 'the sandbox is removed after a failure');
  const [c] = await src.query<{ n: string }>(`select count(*)::text as n from pg_class where relname = 'newer_restored'`, [], 'app');
  assert.equal(c!.n, '0');
});

test('a table in a user tablespace comes back under its own name after a DROP: the sandbox keeps its tablespaces to itself', async () => {
  const res = await restoreTable(options({ table: 'public.in_ts', as: 'in_ts' }));
  assert.equal(res.restoredAs, 'public.in_ts');
  assert.equal(await tableDigest('in_ts'), inTsAtT);
  assert.deepEqual(
    res.renamed.map((r) => `${r.from}->${r.to}`),
    ['in_ts->in_ts'],
    'nothing renamed under its own name',
  );
  const [ts] = await src.query<{ t: string }>(
    `select t.spcname as t from pg_class c join pg_tablespace t on t.oid = c.reltablespace where c.relname = 'in_ts'`,
    [],
    'app',
  );
  assert.equal(ts!.t, 'ts1', 'the copy is in the tablespace the table was in');
  assert.equal(readdirSync(sandboxes).length, 0, 'the sandbox and its tablespace directory are removed');
});

test("an inheritance parent: its own rows (not its children's), counted alike on both sides", async () => {
  const res = await restoreTable(options({ table: 'public.parent_t' }));
  assert.equal(res.rows, parentOwnAtT);
  const [own] = await src.query<{ n: string }>(`select count(*)::text as n from parent_t_restored where v like 'parent%'`, [], 'app');
  assert.equal(Number(own!.n), parentOwnAtT);
  assert.match(res.left.join('\n'), /its 1 inheritance child table\(s\) are not part of the copy/);
});

test('refused in the check, before any sandbox: no CREATE on the schema, an owner the role cannot give, a missing database', async () => {
  const low = { connection: src.connectionString('app', 'lowpriv'), pgBin: src.binDir };
  const e1 = await rejects(
    { cluster: low, as: 'orders_low' },
    'SERVER_NOT_READY',
    /role lowpriv may not create tables in schema public of database app/,
  );
  assert.match(e1.hint ?? '', /GRANT CREATE ON SCHEMA public TO lowpriv/);
  await rejects(
    { cluster: low, as: 'archive.orders_low' },
    'SERVER_NOT_READY',
    /role lowpriv cannot give the restored copy its owner, \S+ \(it is not a member of that role\)/,
  );
  const e3 = await rejects({ database: 'no_such_db', as: 'orders_x' }, 'NOT_FOUND', /database "no_such_db" does not exist/);
  assert.equal(e3.exitCode, 8);
  assert.equal(readdirSync(sandboxes).length, 0, 'no sandbox was made');
  const steps: string[] = [];
  await rejects(
    {
      cluster: low,
      as: 'archive.orders_low',
      onProgress: (e) => {
        if (e.state !== 'progress') steps.push(`${e.step}:${e.state}`);
      },
    },
    'SERVER_NOT_READY',
    /owner/,
  );
  assert.deepEqual(steps, ['check:start', 'check:failed']);
});
