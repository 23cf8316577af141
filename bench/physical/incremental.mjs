#!/usr/bin/env node
// Incremental benchmark (issue 14): after one full backup with each tool, several rounds of the
// issue's workload (pgbench -n -c 2 -t 3000, then 0.1% of bench_orders updated), each followed
// by an incremental with pgkeep (backup --method local --jobs 2, zstd:3) and with pgBackRest
// 2.59.1 (repo1-bundle=y repo1-block=y compress-type=zst process-max=2, backup --type=incr).
// Prints per round and as medians: stored bytes (pgkeep: the snapshot's storedBytes;
// pgBackRest: growth of its repository's backup directory), wall time, and the two ratios.
//
//   node bench/physical/incremental.mjs [--scale 50] [--rows 2000000] [--rounds 3] [--transactions 3000]
//
// Not part of `npm test`. Needs `npm run build`, root, /usr/bin/time and pgBackRest 2.59.1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { arg, buildDataset, du, give, log, MB, median, pgbackrestStanza, pgkeepBin, root, timed, traversable } from './common.mjs';

const scale = Number(arg('scale', 50));
const rows = Number(arg('rows', 2000000));
const rounds = Number(arg('rounds', 3));
const transactions = Number(arg('transactions', 3000));
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'pgkeep-bench-incr-'));
traversable(dir);
give(dir);

const { LocalCluster } = await import(join(root, 'dist/pg/local-cluster.js'));
const { pgToolPath } = await import(join(root, 'dist/pg/bin.js'));
const cluster = await LocalCluster.create({
  tmpDir: dir,
  settings: { wal_level: 'replica', max_wal_senders: 5, shared_buffers: '256MB', max_wal_size: '4GB', checkpoint_timeout: '30min' },
  hba: ['local replication all trust', 'host replication all 127.0.0.1/32 trust'],
});
const samples = [];
let clusterBytes = 0;
try {
  await cluster.start();
  clusterBytes = await buildDataset(cluster, scale, rows);
  const repoDir = join(dir, 'pgkeep-repo');
  const where = ['--repo', repoDir, '--cluster', 'bench', '--pgdata', cluster.dataDir, '-d', cluster.connectionString()];
  const pgkeep = (...args) => timed(process.execPath, [pgkeepBin, ...where, ...args]);
  const pgkeepBackup = () => {
    const t = pgkeep('--json', 'backup', '--method', 'local', '--jobs', '2');
    return { seconds: t.seconds, stored: JSON.parse(t.stdout).storedBytes };
  };
  pgkeep('repo', 'init', '--compression', 'zstd:3');
  const pbr = pgbackrestStanza(join(dir, 'pgbackrest'), cluster);
  pbr.run(['stanza-create']);
  const pbrBackup = (type) => {
    const before = du(join(pbr.dir, 'repo', 'backup'));
    const t = pbr.run(['backup', `--type=${type}`]);
    return { seconds: t.seconds, stored: du(join(pbr.dir, 'repo', 'backup')) - before };
  };
  log('full backups: pgkeep, pgBackRest');
  const fulls = { pgkeep: pgkeepBackup(), pgbackrest: pbrBackup('full') };
  log(`full stored: pgkeep ${MB(fulls.pgkeep.stored)}, pgBackRest ${MB(fulls.pgbackrest.stored)}`);
  const conn = ['-h', cluster.socketDir, '-p', String(cluster.port), '-U', 'postgres'];
  for (let i = 1; i <= rounds; i++) {
    log(`round ${i}/${rounds}: pgbench -n -c 2 -t ${transactions}, 0.1% of bench_orders updated`);
    timed(pgToolPath(cluster.binDir, 'pgbench'), [...conn, '-n', '-c', '2', '-t', String(transactions), 'postgres']);
    await cluster.exec(`UPDATE bench_orders SET status = 'returned' WHERE id > ${rows - Math.floor(rows / 1000)}`);
    await cluster.exec('CHECKPOINT');
    await sleep(2100); // pgkeep reads files changed within 2 s of its start whatever their mtime
    // the order alternates, so neither tool always reads a cache the other one warmed
    const order = i % 2 ? ['pgkeep', 'pgbackrest'] : ['pgbackrest', 'pgkeep'];
    const s = {};
    for (const tool of order) s[tool] = tool === 'pgkeep' ? pgkeepBackup() : pbrBackup('incr');
    log(`  pgkeep ${MB(s.pgkeep.stored)} in ${s.pgkeep.seconds} s; pgBackRest ${MB(s.pgbackrest.stored)} in ${s.pgbackrest.seconds} s`);
    samples.push(s);
  }
} finally {
  await cluster.destroy();
  if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
}

const mid = (tool, key) => median(samples.map((s) => s[tool][key]));
console.log(`\ndataset: pgbench -s ${scale} + bench_orders rows=${rows}: cluster ${MB(clusterBytes)}; ${rounds} incremental rounds\n`);
for (const [i, s] of samples.entries()) {
  const pk = `pgkeep ${MB(s.pgkeep.stored).padStart(8)} ${s.pgkeep.seconds.toFixed(1).padStart(6)} s`;
  console.log(`round ${i + 1}: ${pk}   pgBackRest ${MB(s.pgbackrest.stored).padStart(8)} ${s.pgbackrest.seconds.toFixed(1).padStart(6)} s`);
}
const report = (label, value, goal) =>
  console.log(`${label.padEnd(58)} ${value.toFixed(2).padStart(6)}  (goal <= ${goal}) ${value <= goal ? 'met' : 'NOT met'}`);
console.log('\nmedians, pgkeep / pgBackRest 2.59.1:');
report('incremental stored bytes, local vs pgBackRest incr', mid('pgkeep', 'stored') / mid('pgbackrest', 'stored'), 1.0);
report('incremental time, local vs pgBackRest incr', mid('pgkeep', 'seconds') / mid('pgbackrest', 'seconds'), 1.0);
console.log(`\n${JSON.stringify({ dataset: { scale, rows, clusterBytes }, transactions, samples })}`);
