#!/usr/bin/env node
// Physical backup benchmark (issue 4): pgkeep (stream and local, 2 jobs, zstd:3) against
// pgBackRest (Debian's package, process-max=2, compress-type zst and lz4) and pg_basebackup, on
// one cluster, in one run. Prints times, stored sizes, peak RSS and the ratios the issue asks for:
//
//   full backup time and stored size; restore time; an incremental backup after a fixed workload
//   (pgbench -n -c 2 -t 10000 plus an update of 0.1% of bench_orders): time and bytes stored.
//
// Not part of `npm test`. Needs `npm run build`, /usr/bin/pgbackrest, /usr/bin/time, and root
// (the cluster and pgBackRest run as the postgres OS user).
//
//   node bench/physical/run.mjs [--scale 100] [--rows 4000000] [--chunk-size 128k]   (BENCH_DIR, default $TMPDIR)
//
// The 0.1% of bench_orders updated are the newest rows (the highest ids, as "recent orders"
// change most), a contiguous range: scattered updates touch nearly every 128 KiB chunk.
//
// The defaults build the dataset (pgbench -s 100 plus ../../../shared/bench/dataset.sql
// with rows=4000000, about 2.5 GB); smaller values give a quicker, rougher run.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, lstatSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const { LocalCluster } = await import(join(root, 'dist/pg/local-cluster.js'));
const { pgToolPath } = await import(join(root, 'dist/pg/bin.js'));
const { serverOsUser } = await import(join(root, 'dist/pg/server-user.js'));

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const scale = arg('scale', 100);
const rows = arg('rows', 4000000);
const chunkSize = process.argv.includes('--chunk-size') ? process.argv[process.argv.indexOf('--chunk-size') + 1] : '128k';
const datasetSql = resolve(root, '../shared/bench/dataset.sql');
const pgkeep = join(root, 'bin/pgkeep.js');
const base = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'pgkeep-bench-physical-'));
const pgUser = serverOsUser();
const give = (p) => {
  if (pgUser) chownSync(p, pgUser.uid, pgUser.gid);
};
for (let d = base; pgUser && d !== '/'; d = dirname(d)) {
  try {
    spawnSync('chmod', ['o+x', d]);
  } catch {
    /* best effort */
  }
}
give(base);

/** Run a command under /usr/bin/time: seconds and peak RSS (MiB). `asPostgres` runs it as the server's OS user. */
function timed(cmd, args, { asPostgres = false, env = {} } = {}) {
  const full = ['-f', '%e %M', cmd, ...args];
  const r =
    asPostgres && pgUser
      ? spawnSync('runuser', ['-u', pgUser.name, '--', '/usr/bin/time', ...full], {
          encoding: 'utf8',
          maxBuffer: 1 << 28,
          env: { ...process.env, ...env },
        })
      : spawnSync('/usr/bin/time', full, { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`);
  const [secs, kib] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { seconds: secs, rssMiB: kib / 1024, stdout: r.stdout };
}

function du(path) {
  let n = 0;
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  for (const e of readdirSync(path)) n += du(join(path, e));
  return n;
}

const MB = (n) => `${(n / 1048576).toFixed(0)} MiB`;
const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

const cluster = await LocalCluster.create({
  tmpDir: base,
  settings: {
    wal_level: 'replica',
    max_wal_senders: 5,
    max_replication_slots: 5,
    shared_buffers: '256MB',
    max_wal_size: '4GB',
    checkpoint_timeout: '30min',
    fsync: 'on',
  },
  hba: ['local replication all trust', 'host replication all 127.0.0.1/32 trust'],
});
const results = {};
try {
  await cluster.start();
  const conn = ['-h', cluster.socketDir, '-p', String(cluster.port), '-U', 'postgres'];
  log(`building the dataset: pgbench -i -s ${scale}, dataset.sql rows=${rows}`);
  timed(pgToolPath(cluster.binDir, 'pgbench'), [...conn, '-i', '-q', '-s', String(scale), 'postgres']);
  timed(pgToolPath(cluster.binDir, 'psql'), [...conn, '-X', '-q', '-v', `rows=${rows}`, '-f', datasetSql, 'postgres']);
  await cluster.exec('CHECKPOINT');
  const [{ size }] = await cluster.query(`SELECT sum(pg_database_size(oid))::bigint AS size FROM pg_database`);
  results.dataset = { scale, rows, clusterBytes: Number(size) };
  log(`cluster: ${MB(Number(size))}`);

  // --- pgkeep ---
  const pgkeepRepo = join(base, 'pgkeep-repo');
  const pk = (args) =>
    timed(process.execPath, [
      pgkeep,
      '--repo',
      pgkeepRepo,
      '--cluster',
      'bench',
      '--pgdata',
      cluster.dataDir,
      '-d',
      cluster.connectionString(),
      ...args,
    ]);
  pk(['repo', 'init', '--compression', 'zstd:3', '--chunk-size', chunkSize]);
  log('pgkeep backup --method stream (full)');
  const streamFull = pk(['--json', 'backup', '--method', 'stream', '--jobs', '2']);
  const streamFullRes = JSON.parse(streamFull.stdout);
  results.pgkeepStreamFull = { seconds: streamFull.seconds, stored: streamFullRes.storedBytes, rssMiB: streamFull.rssMiB };
  // the local full backup goes to its own repository, so it is a full backup too
  const localRepo = join(base, 'pgkeep-repo-local');
  const pkl = (args) =>
    timed(process.execPath, [
      pgkeep,
      '--repo',
      localRepo,
      '--cluster',
      'bench',
      '--pgdata',
      cluster.dataDir,
      '-d',
      cluster.connectionString(),
      ...args,
    ]);
  pkl(['repo', 'init', '--compression', 'zstd:3', '--chunk-size', chunkSize]);
  log('pgkeep backup --method local (full)');
  const localFull = pkl(['--json', 'backup', '--method', 'local', '--jobs', '2']);
  const localFullRes = JSON.parse(localFull.stdout);
  results.pgkeepLocalFull = { seconds: localFull.seconds, stored: localFullRes.storedBytes, rssMiB: localFull.rssMiB };

  // --- pgBackRest ---
  const pbr = {};
  for (const type of ['zst', 'lz4']) {
    const dir = join(base, `pgbackrest-${type}`);
    mkdirSync(join(dir, 'repo'), { recursive: true });
    mkdirSync(join(dir, 'log'));
    mkdirSync(join(dir, 'lock'));
    const conf = join(dir, 'pgbackrest.conf');
    writeFileSync(
      conf,
      [
        '[global]',
        `repo1-path=${join(dir, 'repo')}`,
        'repo1-retention-full=2',
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
    pbr[type] = {
      dir,
      conf,
      run: (args) => timed('/usr/bin/pgbackrest', [`--config=${conf}`, '--stanza=bench', ...args], { asPostgres: true }),
    };
    pbr[type].run(['stanza-create']);
    log(`pgbackrest backup --type=full (${type})`);
    const r = pbr[type].run(['backup', '--type=full']);
    results[`pgbackrestFull_${type}`] = { seconds: r.seconds, stored: du(join(dir, 'repo', 'backup')), rssMiB: r.rssMiB };
  }

  // --- pg_basebackup ---
  log('pg_basebackup -Ft --compress=client-zstd:3 (full)');
  const bbDir = join(base, 'basebackup');
  const bb = timed(pgToolPath(cluster.binDir, 'pg_basebackup'), [
    ...conn,
    '-D',
    bbDir,
    '-Ft',
    '-X',
    'none',
    '-c',
    'fast',
    '--compress=client-zstd:3',
    '--no-sync',
  ]);
  results.pgBasebackupFull = { seconds: bb.seconds, stored: du(bbDir), rssMiB: bb.rssMiB };
  rmSync(bbDir, { recursive: true, force: true });

  // --- restore ---
  // Each restore writes the whole cluster into the page cache. On a virtual machine whose guest
  // memory is backed lazily (and handed back when idle), the first write into memory the guest
  // has not touched recently costs several times more system time than a write into pages freed
  // a moment ago (measured here: 3 GB took 7-8 s the first time, 1.4 s right after deleting it).
  // Whichever restore ran second would inherit the pages the first one freed, so before each
  // one the same amount of memory is touched and freed.
  const warmPageCache = () => {
    const f = join(base, 'warm-page-cache');
    spawnSync('dd', [
      'if=/dev/zero',
      `of=${f}`,
      'bs=1M',
      `count=${Math.ceil(results.dataset.clusterBytes / 1048576) + 256}`,
      'status=none',
    ]);
    rmSync(f, { force: true });
    spawnSync('sync');
  };
  const pkRestoreDir = join(base, 'restore-pgkeep');
  log('pgkeep restore (stream backup)');
  warmPageCache();
  const pkRestore = pk(['--json', 'restore', streamFullRes.snapshotId, '--to', pkRestoreDir, '--jobs', '2']);
  results.pgkeepRestore = { seconds: pkRestore.seconds, rssMiB: pkRestore.rssMiB };
  rmSync(pkRestoreDir, { recursive: true, force: true });
  const pbrRestoreDir = join(base, 'restore-pgbackrest');
  mkdirSync(pbrRestoreDir, { mode: 0o700 });
  give(pbrRestoreDir);
  log('pgbackrest restore (zst)');
  warmPageCache();
  const pbrRestore = pbr.zst.run(['restore', `--pg1-path=${pbrRestoreDir}`]);
  results.pgbackrestRestore_zst = { seconds: pbrRestore.seconds, rssMiB: pbrRestore.rssMiB };
  rmSync(pbrRestoreDir, { recursive: true, force: true });

  // --- incremental after a fixed workload ---
  log('workload: pgbench -n -c 2 -t 10000, update 0.1% of bench_orders');
  timed(pgToolPath(cluster.binDir, 'pgbench'), [...conn, '-n', '-c', '2', '-t', '10000', 'postgres']);
  await cluster.exec(`UPDATE bench_orders SET status = 'returned' WHERE id > ${rows - Math.floor(rows / 1000)}`);
  await cluster.exec('CHECKPOINT');
  log('pgkeep backup --method stream (incremental)');
  const streamIncr = pk(['--json', 'backup', '--method', 'stream', '--jobs', '2']);
  results.pgkeepStreamIncr = { seconds: streamIncr.seconds, stored: JSON.parse(streamIncr.stdout).storedBytes, rssMiB: streamIncr.rssMiB };
  log('pgkeep backup --method local (incremental)');
  const localIncr = pkl(['--json', 'backup', '--method', 'local', '--jobs', '2']);
  results.pgkeepLocalIncr = { seconds: localIncr.seconds, stored: JSON.parse(localIncr.stdout).storedBytes, rssMiB: localIncr.rssMiB };
  for (const type of ['zst']) {
    const before = du(join(pbr[type].dir, 'repo', 'backup'));
    log(`pgbackrest backup --type=incr (${type})`);
    const r = pbr[type].run(['backup', '--type=incr']);
    results[`pgbackrestIncr_${type}`] = {
      seconds: r.seconds,
      stored: du(join(pbr[type].dir, 'repo', 'backup')) - before,
      rssMiB: r.rssMiB,
    };
  }
} finally {
  await cluster.destroy();
  if (!process.env.BENCH_KEEP) rmSync(base, { recursive: true, force: true });
}

// --- report ---
const r = results;
const ratio = (a, b) => (b ? (a / b).toFixed(2) : 'n/a');
const line = (name, x) =>
  console.log(
    `${name.padEnd(34)} ${x.seconds.toFixed(1).padStart(7)} s  ${x.stored !== undefined ? MB(x.stored).padStart(10) : ''.padStart(10)}  RSS ${x.rssMiB.toFixed(0)} MiB`,
  );
console.log(
  `\ndataset: pgbench -s ${r.dataset.scale} + bench_orders rows=${r.dataset.rows}: cluster ${MB(r.dataset.clusterBytes)}; pgkeep chunk size ${chunkSize}\n`,
);
for (const [k, v] of Object.entries(r)) if (k !== 'dataset') line(k, v);
const goal = (label, value, limit, better = 'lower') =>
  console.log(
    `${label.padEnd(58)} ${value.padStart(6)}  (goal ${better === 'lower' ? '<=' : '>='} ${limit}) ${Number(value) <= limit ? 'met' : 'NOT met'}`,
  );
console.log('\nratios (pgkeep / other):');
goal('full backup time, stream vs pgBackRest zst', ratio(r.pgkeepStreamFull.seconds, r.pgbackrestFull_zst.seconds), 0.8);
goal('full backup time, local vs pgBackRest zst', ratio(r.pgkeepLocalFull.seconds, r.pgbackrestFull_zst.seconds), 0.8);
goal('full backup size, stream (zstd:3) vs pgBackRest zst', ratio(r.pgkeepStreamFull.stored, r.pgbackrestFull_zst.stored), 1.05);
goal('full backup size, local (zstd:3) vs pgBackRest zst', ratio(r.pgkeepLocalFull.stored, r.pgbackrestFull_zst.stored), 1.05);
console.log(
  `${'full backup time, stream vs pgBackRest lz4'.padEnd(58)} ${ratio(r.pgkeepStreamFull.seconds, r.pgbackrestFull_lz4.seconds).padStart(6)}`,
);
console.log(
  `${'full backup time, stream vs pg_basebackup (client zstd:3)'.padEnd(58)} ${ratio(r.pgkeepStreamFull.seconds, r.pgBasebackupFull.seconds).padStart(6)}`,
);
console.log(
  `${'full backup size, stream vs pg_basebackup (client zstd:3)'.padEnd(58)} ${ratio(r.pgkeepStreamFull.stored, r.pgBasebackupFull.stored).padStart(6)}`,
);
goal('restore time vs pgBackRest zst', ratio(r.pgkeepRestore.seconds, r.pgbackrestRestore_zst.seconds), 0.8);
goal('incremental stored, stream vs pgBackRest zst incr', ratio(r.pgkeepStreamIncr.stored, r.pgbackrestIncr_zst.stored), 0.15);
goal('incremental stored, local vs pgBackRest zst incr', ratio(r.pgkeepLocalIncr.stored, r.pgbackrestIncr_zst.stored), 0.15);
console.log(
  `${'incremental time, local vs pgBackRest zst incr'.padEnd(58)} ${ratio(r.pgkeepLocalIncr.seconds, r.pgbackrestIncr_zst.seconds).padStart(6)}`,
);
const peak = Math.max(
  ...Object.entries(r)
    .filter(([k]) => k.startsWith('pgkeep'))
    .map(([, v]) => v.rssMiB),
);
goal('pgkeep peak RSS (MiB)', peak.toFixed(0), 300);
console.log(`\n${JSON.stringify(results)}`);
