// Helpers shared by the physical benchmarks (run.mjs, restore.mjs): timing a command with
// /usr/bin/time, sizes, the page-cache warm-up before a restore, and pgBackRest 2.59.1 set up
// the way the issue measures it (repo1-bundle=y repo1-block=y compress-type=zst process-max=2).
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// This machine sets NODE_EXTRA_CA_CERTS: every node process then parses 220 KB of certificates at
// start (about 50 ms of CPU), which a repository on local disk never needs and pgBackRest never
// pays. The benchmarks run without it (README says so).
delete process.env.NODE_EXTRA_CA_CERTS;
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { serverOsUser } = await import(join(root, 'dist/pg/server-user.js'));
export const pgUser = serverOsUser();
/** shared/bench/dataset.sql next to the checkout (../shared) or next to a worktree's parent (../../shared). */
export const datasetSql =
  process.env.BENCH_DATASET ??
  [resolve(root, '../shared/bench/dataset.sql'), resolve(root, '../../shared/bench/dataset.sql')].find((p) => existsSync(p)) ??
  resolve(root, '../shared/bench/dataset.sql');
export const pgkeepBin = join(root, 'bin/pgkeep.js');

/** The pgBackRest the issue anchors on (built from source); PGBACKREST overrides. */
export function pgbackrestBin() {
  const bin = process.env.PGBACKREST ?? '/opt/pgbackrest-2.59.1/bin/pgbackrest';
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run bash ../shared/anchors/build-pgbackrest.sh (or set PGBACKREST)`);
  return bin;
}

export const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};

export const give = (p) => {
  if (pgUser) chownSync(p, pgUser.uid, pgUser.gid);
};

/** Let the server's OS user traverse every parent of `dir`. */
export function traversable(dir) {
  for (let d = dir; pgUser && d !== '/'; d = dirname(d)) spawnSync('chmod', ['o+x', d]);
}

/**
 * Run a command under /usr/bin/time: wall seconds, CPU seconds (user + system) and peak RSS
 * (MiB). `asPostgres` runs it as the server's OS user.
 */
export function timed(cmd, args, { asPostgres = false, env = {} } = {}) {
  const full = ['-f', '%e %U %S %M', cmd, ...args];
  const o = { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ...env } };
  const r =
    asPostgres && pgUser
      ? spawnSync('runuser', ['-u', pgUser.name, '--', '/usr/bin/time', ...full], o)
      : spawnSync('/usr/bin/time', full, o);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`);
  const [secs, user, sys, kib] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { seconds: secs, cpuSeconds: user + sys, rssMiB: kib / 1024, stdout: r.stdout };
}

export function du(path) {
  let n = 0;
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  for (const e of readdirSync(path)) n += du(join(path, e));
  return n;
}

export const MB = (n) => `${(n / 1048576).toFixed(0)} MiB`;
export const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Each restore writes the whole cluster into the page cache. On a virtual machine whose guest
 * memory is backed lazily (and handed back when idle), the first write into memory the guest
 * has not touched recently costs several times more system time than a write into pages freed
 * a moment ago (measured here: 3 GB took 7-8 s the first time, 1.4 s right after deleting it).
 * Whichever restore ran second would inherit the pages the first one freed, so before each one
 * the same amount of memory is touched and freed.
 */
export function warmPageCache(base, bytes) {
  const f = join(base, 'warm-page-cache');
  spawnSync('dd', ['if=/dev/zero', `of=${f}`, 'bs=1M', `count=${Math.ceil(bytes / 1048576) + 256}`, 'status=none']);
  rmSync(f, { force: true });
  spawnSync('sync');
}

/** A pgBackRest stanza in `dir` for the cluster; returns run(args) (as the server's OS user). */
export function pgbackrestStanza(dir, cluster, { type = 'zst', block = true } = {}) {
  mkdirSync(join(dir, 'repo'), { recursive: true });
  mkdirSync(join(dir, 'log'), { recursive: true });
  mkdirSync(join(dir, 'lock'), { recursive: true });
  const conf = join(dir, 'pgbackrest.conf');
  writeFileSync(
    conf,
    [
      '[global]',
      `repo1-path=${join(dir, 'repo')}`,
      'repo1-retention-full=2',
      ...(block ? ['repo1-bundle=y', 'repo1-block=y'] : []),
      `log-path=${join(dir, 'log')}`,
      `lock-path=${join(dir, 'lock')}`,
      'log-level-console=warn',
      'log-level-file=off',
      'process-max=2',
      `compress-type=${type}`,
      'start-fast=y',
      'archive-check=n',
      '',
      '[bench]',
      `pg1-path=${cluster.dataDir}`,
      `pg1-socket-path=${cluster.socketDir}`,
      `pg1-port=${cluster.port}`,
      'pg1-user=postgres',
      '',
    ].join('\n'),
  );
  spawnSync('chown', ['-R', `${pgUser?.name ?? 'postgres'}:`, dir]);
  const bin = pgbackrestBin();
  return { dir, conf, run: (args) => timed(bin, [`--config=${conf}`, '--stanza=bench', ...args], { asPostgres: true }) };
}

/** pgbench -i -s <scale>, then shared/bench/dataset.sql with <rows>, then a checkpoint; returns the cluster's size in bytes. */
export async function buildDataset(cluster, scale, rows) {
  const { pgToolPath } = await import(join(root, 'dist/pg/bin.js'));
  const conn = ['-h', cluster.socketDir, '-p', String(cluster.port), '-U', 'postgres'];
  log(`building the dataset: pgbench -i -s ${scale}, dataset.sql rows=${rows}`);
  timed(pgToolPath(cluster.binDir, 'pgbench'), [...conn, '-i', '-q', '-s', String(scale), 'postgres']);
  timed(pgToolPath(cluster.binDir, 'psql'), [...conn, '-X', '-q', '-v', `rows=${rows}`, '-f', datasetSql, 'postgres']);
  await cluster.exec('CHECKPOINT');
  const [{ size }] = await cluster.query('SELECT sum(pg_database_size(oid))::bigint AS size FROM pg_database');
  log(`cluster: ${MB(Number(size))}`);
  return Number(size);
}
