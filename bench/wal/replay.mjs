#!/usr/bin/env node
// Restore + replay benchmark (not part of npm test): the time to restore a base backup and replay
// SEGMENTS archived WAL segments to the end of the archive, pgkeep (restore_command with prefetch,
// the default) against pgBackRest (archive-get with archive-async=y, process-max=2, its own
// restore). One source cluster archives into both repositories (archive_command runs both pushes);
// one backup each; then real WAL (inserts with indexes) for SEGMENTS segments. Each round restores
// with both tools, interleaved (pgkeep, pgBackRest, pgkeep --no-prefetch, pgkeep, ...), and starts the copy with the
// same pg_ctl command; "replay" is from pg_ctl start to the end of recovery (promoted).
// Also prints where pgkeep's time goes per segment: node start-up, `wal get` served from the spool
// by the sh front (bin/pgkeep, what restore_command runs: no node) and by node, and `wal get` read
// from the repository (fetch, decrypt, decompress, check, write).
//
//   npm run build && PGBACKREST_BIN=/path/to/pgbackrest node bench/wal/replay.mjs [--segments 20] [--rounds 3] [--trace]
//
// Needs root (the clusters and pgBackRest run as the postgres OS user). The machine's load makes
// single timings noisy: read the ratios of the medians, and the CPU figures: where cgroup v1's
// cpuacct is mounted (/sys/fs/cgroup/cpuacct), each tool's restore and its server (with every
// process they start: restore_command, the prefetcher, pgBackRest's async archive-get) run in a
// cgroup of their own, and "cpu" is what that cgroup used until recovery ended.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { LocalCluster } from '../../dist/pg/local-cluster.js';
import { chownTreeToServerUser, serverOsUser } from '../../dist/pg/server-user.js';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const SEGMENTS = Number(arg('segments', '20'));
const ROUNDS = Number(arg('rounds', '3'));
const PGBR = process.env.PGBACKREST_BIN;
if (!PGBR) throw new Error('set PGBACKREST_BIN to a pgBackRest 2.59.1 binary');
delete process.env.PGBACKREST_BIN; // pgBackRest reads PGBACKREST_* as its options ('bin' is none)
// This machine sets NODE_EXTRA_CA_CERTS: every node process then parses 220 KB of certificates at
// start (about 50 ms of CPU), which a repository on local disk never needs and pgBackRest never
// pays. The benchmarks run without it (README says so).
delete process.env.NODE_EXTRA_CA_CERTS;
const CLI = resolve('bin/pgkeep.js');
const user = serverOsUser()?.name ?? 'postgres';
const root = mkdtempSync(join(tmpdir(), 'pgkeep-bench-replay-'));
chmodSync(root, 0o755);
// --trace: restore_command logs at debug level (what each get served from) into the copies' server logs, kept in ROOT/run.
const TRACE = process.argv.includes('--trace');
if (TRACE) process.env.PGKEEP_LOG_LEVEL = 'debug';
process.on('exit', () => (TRACE ? log(`kept ${root}`) : rmSync(root, { recursive: true, force: true })));
const log = (m) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`);

const CPUACCT = '/sys/fs/cgroup/cpuacct';
const cgroups = existsSync(join(CPUACCT, 'cgroup.procs'));
/** A cgroup to count a run's CPU in (undefined without cpuacct). */
function cgroup(name) {
  if (!cgroups) return undefined;
  const dir = join(CPUACCT, `pgkeep-bench-${process.pid}-${name}`);
  mkdirSync(dir);
  made.push(dir);
  return dir;
}
const made = [];
process.on('exit', () => {
  for (const d of made) {
    try {
      rmdirSync(d); // best effort: a cgroup with processes left stays (rmdir it later)
    } catch {}
  }
});
/** CPU seconds (user+sys) the cgroup used, and remove it once its processes are gone (bounded). */
async function cgroupSeconds(dir) {
  if (!dir) return undefined;
  const ns = Number(readFileSync(join(dir, 'cpuacct.usage'), 'utf8'));
  for (let i = 0; i < 50; i++) {
    try {
      rmdirSync(dir);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100)); // a detached helper still ending
    }
  }
  return ns / 1e9;
}

/**
 * The restore's CPU so far; then the processes still in its cgroup (a detached prefetcher) move
 * to `next`, whose count starts from what they used already (cgroup v1 moves no usage).
 */
async function cgroupSecondsOnce(dir, next) {
  if (!dir) return undefined;
  const procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
  for (const pid of procs) {
    try {
      writeFileSync(join(next, 'cgroup.procs'), pid);
    } catch {
      // gone meanwhile
    }
  }
  return cgroupSeconds(dir);
}

function run(cmd, args, { asPostgres = false, cwd, cg } = {}) {
  const t0 = process.hrtime.bigint();
  const argv = asPostgres ? ['runuser', '-u', user, '--', cmd, ...args] : [cmd, ...args];
  // In the cgroup `cg` (with everything it starts): the shell moves itself there, then execs.
  const full = cg ? ['/bin/sh', '-c', `echo $$ > ${cg}/cgroup.procs && exec "$@"`, 'sh', ...argv] : argv;
  const r = spawnSync(full[0], full.slice(1), { encoding: 'utf8', cwd });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return { seconds, stdout: r.stdout };
}

const pkRepo = join(root, 'pgkeep-repo');
const pbrDir = join(root, 'pgbackrest');
for (const d of ['repo', 'log', 'lock', 'spool']) mkdirSync(join(pbrDir, d), { recursive: true });
const pbrConf = join(pbrDir, 'pgbackrest.conf');
run(process.execPath, [CLI, '--repo', pkRepo, 'repo', 'init', '--compression', 'zstd:3']);
chownTreeToServerUser(pkRepo);

const pushBoth = join(root, 'push-both.sh');
writeFileSync(
  pushBoth,
  `#!/bin/sh\nenv -u PGKEEP_CONFIG ${process.execPath} ${CLI} --repo ${pkRepo} --cluster bench wal push "$1" && ${PGBR} --config=${pbrConf} --stanza=bench archive-push "$1"\n`,
);
chmodSync(pushBoth, 0o755);
const src = await LocalCluster.create({
  settings: {
    wal_level: 'replica',
    archive_mode: 'on',
    archive_command: `${pushBoth} %p`,
    max_wal_senders: 4,
    max_wal_size: '4GB',
    checkpoint_timeout: '30min',
  },
});
const pbrGlobal = [
  '[global]',
  `repo1-path=${join(pbrDir, 'repo')}`,
  'repo1-bundle=y',
  'repo1-block=y',
  'compress-type=zst',
  'process-max=2',
  'archive-async=y',
  `spool-path=${join(pbrDir, 'spool')}`,
  `log-path=${join(pbrDir, 'log')}`,
  `lock-path=${join(pbrDir, 'lock')}`,
  'log-level-console=warn',
  'log-level-file=off',
  'start-fast=y',
  'archive-check=n',
];
writeFileSync(
  pbrConf,
  [
    ...pbrGlobal,
    '',
    '[bench]',
    `pg1-path=${src.dataDir}`,
    `pg1-socket-path=${src.socketDir}`,
    `pg1-port=${src.port}`,
    `pg1-user=${src.superuser}`,
    '',
  ].join('\n'),
);
chownTreeToServerUser(pbrDir);
try {
  await src.start();
  run(PGBR, [`--config=${pbrConf}`, '--stanza=bench', 'stanza-create'], { asPostgres: true });
  await src.exec('create table t (id bigint primary key, v text, w text); create index on t (v)');
  await src.exec("insert into t select g, md5(g::text), repeat('x', 50) from generate_series(1, 10000) g");
  log('backups: pgkeep (stream) and pgBackRest (full)');
  run(process.execPath, [
    CLI,
    '--repo',
    pkRepo,
    '--cluster',
    'bench',
    '-d',
    src.connectionString(),
    'backup',
    '--method',
    'stream',
    '--jobs',
    '2',
  ]);
  chownTreeToServerUser(pkRepo);
  run(PGBR, [`--config=${pbrConf}`, '--stanza=bench', 'backup', '--type=full'], { asPostgres: true });
  log(`workload: ${SEGMENTS} segments of WAL`);
  const lsn = async () => (await src.query("select pg_current_wal_lsn() - '0/0'::pg_lsn as b"))[0].b;
  const start = Number(await lsn());
  let id = 10001;
  while (Number(await lsn()) - start < SEGMENTS * 16 * 1024 * 1024) {
    await src.exec(`insert into t select g, md5(g::text), repeat('y', 50) from generate_series(${id}, ${id + 19999}) g`);
    id += 20000;
  }
  const [{ f: last }] = await src.query('select pg_walfile_name(pg_switch_wal()) as f');
  for (let i = 0; i < 1200; i++) {
    const [{ w }] = await src.query('select last_archived_wal as w from pg_stat_archiver');
    if (w && w.slice(8) >= last.slice(8)) break;
    if (i === 1199) throw new Error('archiving did not catch up in 10 minutes');
    await new Promise((r) => setTimeout(r, 500));
  }
  const [{ n: rows }] = await src.query('select count(*)::int as n from t');
  log(`archived up to ${last}; ${rows} rows`);
  chownTreeToServerUser(pkRepo);

  const port = src.port + 1;
  const runDir = join(root, 'run'); // server logs and sockets of the copies, written by the postgres OS user
  mkdirSync(runDir);
  chownTreeToServerUser(runDir);
  const pgCtl = join(src.binDir, 'pg_ctl');
  /** Start the copy, wait until recovery ended; seconds, and check the rows. */
  const replay = async (dataDir, cg) => {
    const t0 = process.hrtime.bigint();
    run(
      pgCtl,
      [
        '-D',
        dataDir,
        '-l',
        join(runDir, `${dataDir.split('/').pop()}.log`),
        '-w',
        '-t',
        '600',
        '-o',
        `-p ${port} -k ${runDir} -c listen_addresses='' -c archive_mode=off -c log_line_prefix='%m '`,
        'start',
      ],
      { asPostgres: true, cg },
    );
    const psql = (sql) =>
      run(join(src.binDir, 'psql'), ['-h', runDir, '-p', String(port), '-U', src.superuser, '-d', 'postgres', '-Atc', sql], {
        asPostgres: true,
      }).stdout.trim();
    for (let i = 0; ; i++) {
      if (psql('select pg_is_in_recovery()') === 'f') break;
      if (i > 6000) throw new Error('recovery did not end in 10 minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = cg ? Number(readFileSync(join(cg, 'cpuacct.usage'), 'utf8')) / 1e9 : undefined;
    const got = Number(psql('select count(*) from t'));
    if (got !== rows) throw new Error(`${dataDir}: ${got} rows, expected ${rows}`);
    run(pgCtl, ['-D', dataDir, '-m', 'immediate', 'stop'], { asPostgres: true });
    return { seconds, cpu };
  };

  /** `pgkeep restore` of the latest backup into `dir`, as both the rounds and the probe run it. */
  const pkRestoreArgs = (dir, extra = []) => [
    CLI,
    '--repo',
    pkRepo,
    '--cluster',
    'bench',
    'restore',
    'latest',
    '--to',
    dir,
    '--jobs',
    '2',
    '--archive-mode',
    'off',
    ...extra,
  ];
  // pgkeepDirect: the same restore with --no-prefetch (one `wal get` per segment, as before prefetch was the default).
  const results = { pgkeep: [], pgbackrest: [], pgkeepDirect: [] };
  const done = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const tool of ['pgkeep', 'pgbackrest', 'pgkeepDirect']) {
      const dir = join(root, `r${round}-${tool}`);
      const cgRestore = cgroup(`r${round}-${tool}-restore`);
      const cgReplay = cgroup(`r${round}-${tool}-replay`);
      let restoreSec;
      if (tool !== 'pgbackrest') {
        restoreSec = run(process.execPath, pkRestoreArgs(dir, tool === 'pgkeepDirect' ? ['--no-prefetch'] : []), {
          cg: cgRestore,
        }).seconds;
      } else {
        mkdirSync(dir, { mode: 0o700 });
        chownTreeToServerUser(dir);
        restoreSec = run(PGBR, [`--config=${pbrConf}`, '--stanza=bench', 'restore', `--pg1-path=${dir}`, '--archive-mode=off'], {
          asPostgres: true,
          cg: cgRestore,
        }).seconds;
      }
      // What pgkeep's restore started (the prefetcher) counts with the replay from here on.
      const restoreCpu = await cgroupSecondsOnce(cgRestore, cgReplay);
      const { seconds: replaySec, cpu: replayCpu } = await replay(dir, cgReplay);
      await cgroupSeconds(cgReplay);
      results[tool].push({
        restore: restoreSec,
        replay: replaySec,
        total: restoreSec + replaySec,
        ...(restoreCpu === undefined ? {} : { restoreCpu, replayCpu, totalCpu: restoreCpu + replayCpu }),
      });
      log(
        `round ${round} ${tool}: restore ${restoreSec.toFixed(2)} s, replay ${replaySec.toFixed(2)} s` +
          (restoreCpu === undefined ? '' : ` (CPU ${restoreCpu.toFixed(2)} s + ${replayCpu.toFixed(2)} s)`),
      );
      // Kept until the end: on an ext4 without a journal (this machine's), a file created within a
      // minute of thousands deleted in its block group costs ~0.5 ms (the allocator skips each
      // recently freed inode), which made the next restore's time depend on the last removal.
      done.push(dir);
    }
  }

  // Where pgkeep's time goes, per segment, on this machine now.
  const segs = readdirSync(join(pkRepo, 'wal', 'bench'), { recursive: true })
    .map(String)
    .filter((n) => /[0-9A-F]{24}\.zst$/.test(n))
    .map((n) => n.slice(-28, -4))
    .sort();
  const probeDir = join(root, 'probe');
  run(process.execPath, pkRestoreArgs(probeDir));
  const get = (name, extra = []) =>
    run(process.execPath, [CLI, '--repo', pkRepo, '--cluster', 'bench', 'wal', 'get', ...extra, name, join(root, 'probe-seg')], {
      cwd: probeDir,
    }).seconds;
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const nodeBare = median([1, 2, 3, 4, 5].map(() => run(process.execPath, ['-e', '']).seconds));
  const version = median([1, 2, 3, 4, 5].map(() => run(process.execPath, [CLI, '--version']).seconds));
  const direct = median(segs.slice(-6, -1).map((s) => get(s)));
  // Prefetch: the first get fills the spool; the next ones are served from it.
  get(segs[1], ['--prefetch', '8']);
  await new Promise((r) => setTimeout(r, 5000));
  const spooled = median(segs.slice(2, 7).map((s) => get(s, ['--prefetch', '8'])));
  // The same through the sh front, with the command line restore writes (--system-id).
  const sysid = /--system-id (\d+)/.exec(readFileSync(join(probeDir, 'postgresql.auto.conf'), 'utf8'))[1];
  const front = (name) =>
    run(
      resolve('bin/pgkeep'),
      ['--repo', pkRepo, '--cluster', 'bench', 'wal', 'get', '--prefetch', '8', '--system-id', sysid, name, join(root, 'probe-seg')],
      { cwd: probeDir },
    ).seconds;
  await new Promise((r) => setTimeout(r, 3000));
  const frontSpooled = median(segs.slice(7, 12).map(front));
  const shBare = median([1, 2, 3, 4, 5].map(() => run('/bin/sh', ['-c', ':']).seconds));
  run(process.execPath, [CLI, '--cluster', 'bench', 'wal', 'spool-clean'], { cwd: probeDir });

  const med = (tool, k) => median(results[tool].map((r) => r[k]));
  const cpuKeys = cgroups ? ['restoreCpu', 'replayCpu', 'totalCpu'] : [];
  const out = {
    segments: SEGMENTS,
    rounds: ROUNDS,
    rows,
    median: Object.fromEntries(
      ['restore', 'replay', 'total', ...cpuKeys].map((k) => [
        k,
        {
          pgkeep: med('pgkeep', k),
          pgbackrest: med('pgbackrest', k),
          pgkeepDirect: med('pgkeepDirect', k),
          ratio: med('pgkeep', k) / med('pgbackrest', k),
          ratioDirect: med('pgkeepDirect', k) / med('pgbackrest', k),
        },
      ]),
    ),
    runs: results,
    perSegment: {
      nodeBare,
      shBare,
      pgkeepVersion: version,
      walGetFromRepository: direct,
      walGetFromSpool: spooled,
      frontGetFromSpool: frontSpooled,
    },
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
} finally {
  await src.destroy();
}
