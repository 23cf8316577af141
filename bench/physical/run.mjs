#!/usr/bin/env node
// Physical backup benchmark (issues 4, 14): pgkeep (stream and local, 2 jobs, zstd:3) against
// pgBackRest 2.59.1 (repo1-bundle=y repo1-block=y process-max=2, compress-type zst and lz4) and
// pg_basebackup, on one cluster, in one run. Prints times, stored sizes, peak RSS and the ratios the issue asks for:
//
//   full backup time and stored size; restore time; an incremental backup after a fixed workload
//   (pgbench -n -c 2 -t 10000 plus an update of 0.1% of bench_orders): time and bytes stored.
//
// Not part of `npm test`. Needs `npm run build`, pgBackRest 2.59.1 (/opt/pgbackrest-2.59.1, or
// PGBACKREST; ../shared/anchors/build-pgbackrest.sh builds it), /usr/bin/time, and root
// (the cluster and pgBackRest run as the postgres OS user). bench/physical/restore.mjs measures
// restore alone, several rounds.
//
//   node bench/physical/run.mjs [--scale 100] [--rows 4000000] [--chunk-size 128k]   (BENCH_DIR, default $TMPDIR)
//
// The 0.1% of bench_orders updated are the newest rows (the highest ids, as "recent orders"
// change most), a contiguous range: scattered updates touch nearly every 128 KiB chunk.
//
// The defaults build the dataset (pgbench -s 100 plus ../../../shared/bench/dataset.sql
// with rows=4000000, about 2.5 GB); smaller values give a quicker, rougher run.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  arg,
  buildDataset,
  du,
  give,
  log,
  MB,
  pgbackrestStanza,
  pgkeepBin as pgkeep,
  root,
  timed,
  traversable,
  warmPageCache,
} from './common.mjs';

const { LocalCluster } = await import(join(root, 'dist/pg/local-cluster.js'));
const { pgToolPath } = await import(join(root, 'dist/pg/bin.js'));

const scale = Number(arg('scale', 100));
const rows = Number(arg('rows', 4000000));
const chunkSize = arg('chunk-size', '128k');
const base = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'pgkeep-bench-physical-'));
traversable(base);
give(base);

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
  const size = await buildDataset(cluster, scale, rows);
  results.dataset = { scale, rows, clusterBytes: size };

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
    pbr[type] = pgbackrestStanza(dir, cluster, { type });
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
  const pkRestoreDir = join(base, 'restore-pgkeep');
  log('pgkeep restore (stream backup)');
  warmPageCache(base, results.dataset.clusterBytes);
  const pkRestore = pk(['--json', 'restore', streamFullRes.snapshotId, '--to', pkRestoreDir, '--jobs', '2']);
  results.pgkeepRestore = { seconds: pkRestore.seconds, rssMiB: pkRestore.rssMiB };
  rmSync(pkRestoreDir, { recursive: true, force: true });
  const pbrRestoreDir = join(base, 'restore-pgbackrest');
  mkdirSync(pbrRestoreDir, { mode: 0o700 });
  give(pbrRestoreDir);
  log('pgbackrest restore (zst)');
  warmPageCache(base, results.dataset.clusterBytes);
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
