/**
 * Helpers for the physical backup tests (not used by the product): a source cluster with several
 * databases, a tablespace, small and larger tables and an unlogged table; a pgbench workload;
 * per-table checksums; pg_amcheck.
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import type { ClusterSettings } from '../config/types.js';
import type { Repository } from '../repo/index.js';
import { newPosixRepo, tempDir } from '../repo/test-utils.js';
import { listTree } from '../restore/test-compare.js';
import { backup, type BackupMethod } from './index.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser, runProgram } from '../pg/server-user.js';
import { pgToolPath } from '../pg/bin.js';

/** Tables nobody writes during the tests' workload: database -> table names. */
export const STATIC_TABLES: Record<string, string[]> = {
  app: ['small', 'big'],
  shop: ['orders', 'in_ts'],
};

/** Settings and pg_hba.conf lines of a source cluster that streams backups and WAL. */
export const REPLICATION_SOURCE = {
  settings: { wal_level: 'replica', max_wal_senders: 5, max_replication_slots: 5, fsync: false, checkpoint_timeout: '1h' },
  hba: ['local replication all trust', 'host replication all 127.0.0.1/32 trust'],
};

/** CREATE TABLESPACE `name` in a directory <baseDir>/<name> of the server's OS user; returns the directory. */
export async function addTablespace(cluster: LocalCluster, name: string): Promise<string> {
  const dir = join(cluster.baseDir, name);
  mkdirSync(dir);
  chownTreeToServerUser(dir);
  await cluster.exec(`CREATE TABLESPACE ${name} LOCATION '${dir}'`);
  return dir;
}

/**
 * For one test file: a source cluster (made by `make`, started) and a POSIX repository in a temp
 * directory, created in before() and removed in after(). Read the fields inside the tests.
 */
export function sourceAndRepo(
  prefix: string,
  make: () => Promise<LocalCluster>,
): { source: LocalCluster; repo: Repository; work: { path: string } } {
  const f = {} as { source: LocalCluster; repo: Repository; work: { path: string; remove(): Promise<void> } };
  before(async () => {
    f.work = await tempDir(prefix);
    f.source = await make();
    f.repo = await newPosixRepo(join(f.work.path, 'repo'));
  });
  after(async () => {
    await f.source?.destroy();
    await f.repo?.close();
    await f.work?.remove();
  });
  return f;
}

export async function createSourceCluster(opts: { scale?: number; dataChecksums?: boolean } = {}): Promise<LocalCluster> {
  const cluster = await LocalCluster.create({ dataChecksums: opts.dataChecksums ?? true, ...REPLICATION_SOURCE });
  try {
    await cluster.start();
    await addTablespace(cluster, 'ts1');
    await cluster.exec('CREATE DATABASE app');
    await cluster.exec('CREATE DATABASE shop');
    await cluster.exec(
      `
      CREATE TABLE small (id int PRIMARY KEY, note text);
      INSERT INTO small SELECT g, 'row ' || g FROM generate_series(1, 500) g;
      CREATE TABLE big (id int PRIMARY KEY, payload text);
      INSERT INTO big SELECT g, md5(g::text) || repeat('x', 100) FROM generate_series(1, 40000) g;
      CREATE UNLOGGED TABLE scratch (id int);
      INSERT INTO scratch SELECT generate_series(1, 1000);`,
      'app',
    );
    await cluster.exec(
      `
      CREATE TABLE orders (id int PRIMARY KEY, customer text, amount numeric);
      INSERT INTO orders SELECT g, 'c' || (g % 97), g * 1.5 FROM generate_series(1, 5000) g;
      CREATE TABLE in_ts (id int, payload text) TABLESPACE ts1;
      INSERT INTO in_ts SELECT g, repeat('y', 200) FROM generate_series(1, 3000) g;
      CREATE INDEX in_ts_id ON in_ts (id) TABLESPACE ts1;
      CREATE UNLOGGED TABLE sessions (id int, data text);
      INSERT INTO sessions SELECT g, 's' FROM generate_series(1, 100) g;`,
      'shop',
    );
    await pgbench(cluster, ['-i', '-q', '-s', String(opts.scale ?? 2)], 'app');
    await cluster.exec('CHECKPOINT');
  } catch (e) {
    await cluster.destroy();
    throw e;
  }
  return cluster;
}

export async function pgbench(cluster: LocalCluster, args: string[], database: string, signal?: AbortSignal): Promise<string> {
  const r = await runProgram(
    pgToolPath(cluster.binDir, 'pgbench'),
    ['-h', cluster.socketDir, '-p', String(cluster.port), '-U', cluster.superuser, ...args, database],
    { asServerUser: false, ...(signal ? { signal } : {}) },
  );
  if (r.code !== 0) throw new Error(`pgbench ${args.join(' ')} failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

/** md5 of every row of each table, ordered by its first column. */
export async function tableChecksums(cluster: LocalCluster, tables: Record<string, string[]>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [db, names] of Object.entries(tables)) {
    for (const t of names) {
      const [r] = await cluster.query<{ h: string; n: string }>(
        `SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h, count(*)::text AS n FROM ${t} x`,
        [],
        db,
      );
      out[`${db}.${t}`] = `${r!.n}:${r!.h}`;
    }
  }
  return out;
}

/** pgbench's invariant: every transaction adds the same delta to an account, teller, branch and history row. */
export async function pgbenchBalances(
  cluster: LocalCluster,
): Promise<{ accounts: string; branches: string; tellers: string; history: string; accountRows: string }> {
  const [r] = await cluster.query(
    `
    SELECT (SELECT sum(abalance)::text FROM pgbench_accounts) AS accounts,
           (SELECT sum(bbalance)::text FROM pgbench_branches) AS branches,
           (SELECT sum(tbalance)::text FROM pgbench_tellers) AS tellers,
           (SELECT coalesce(sum(delta), 0)::text FROM pgbench_history) AS history,
           (SELECT count(*)::text FROM pgbench_accounts) AS "accountRows"`,
    [],
    'app',
  );
  return r;
}

/** pg_amcheck on every database (heap and btree checks); returns its output, throws on findings. */
export async function amcheck(cluster: LocalCluster): Promise<string> {
  const r = await runProgram(
    pgToolPath(cluster.binDir, 'pg_amcheck'),
    ['-h', cluster.socketDir, '-p', String(cluster.port), '-U', cluster.superuser, '--all', '--install-missing', '--heapallindexed'],
    { asServerUser: false },
  );
  if (r.code !== 0) throw new Error(`pg_amcheck found problems (exit ${r.code}): ${(r.stdout + r.stderr).slice(-3000)}`);
  return r.stdout;
}

/**
 * A repository created inside `dir` (a data directory, a tablespace): a backup with each method
 * must be refused with CONFIG naming `what`, and leave that repository exactly as it was.
 */
export async function assertRepoInsideRefused(dir: string, methods: BackupMethod[], cluster: ClusterSettings, what: RegExp): Promise<void> {
  const repoDir = join(dir, 'pgkeep-repo-inside');
  const inside = await newPosixRepo(repoDir);
  try {
    const before = listTree(repoDir);
    for (const method of methods) {
      await assert.rejects(backup({ repo: inside, clusterName: 'main', cluster, method }), (e: unknown) => {
        assert.ok(e instanceof PgkeepError, String(e));
        assert.equal(e.code, 'CONFIG', `${method}: ${e.message}`);
        assert.match(e.message, /the repository .* is inside/);
        assert.match(e.message, what);
        return true;
      });
      assert.deepEqual(listTree(repoDir), before, `${method}: nothing written into the repository`);
    }
  } finally {
    await inside.close();
    rmSync(repoDir, { recursive: true, force: true });
  }
}
