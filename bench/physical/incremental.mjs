#!/usr/bin/env node
// Incremental benchmark (issue 14): after one full backup with each tool, several rounds of the
// issue's workload (pgbench -n -c 2 -t 3000, then 0.1% of bench_orders updated), each followed
// by an incremental with pgkeep (backup --method local --jobs 2, zstd:3) and with pgBackRest
// 2.59.1 (repo1-bundle=y repo1-block=y compress-type=zst process-max=2, backup --type=incr).
// Prints per round and as medians: stored bytes (pgkeep: the snapshot's storedBytes;
// pgBackRest: growth of its repository's backup directory), wall time, and the two ratios.
//
//   node bench/physical/incremental.mjs [--scale 50] [--rows 2000000] [--rounds 3] [--transactions 3000]
//                                       [--baseline DIR]
//
// --baseline DIR: also back up with the pgkeep built in DIR (another checkout, e.g. before a
// change; its own repository) in the same rounds, for an A/B comparison on a busy machine.
//
// Not part of `npm test`. Needs `npm run build`, root, /usr/bin/time and pgBackRest 2.59.1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { arg, buildDataset, du, give, log, MB, median, pgbackrestStanza, pgkeepBin, root, timed, traversable } from './common.mjs';

const scale = Number(arg('scale', 50));
const rows = Number(arg('rows', 2000000));
const rounds = Number(arg('rounds', 3));
const transactions = Number(arg('transactions', 3000));
const baseline = arg('baseline') && resolve(arg('baseline'));
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
  const pgkeepIn = (bin, repoDir) => {
    const where = ['--repo', repoDir, '--cluster', 'bench', '--pgdata', cluster.dataDir, '-d', cluster.connectionString()];
    timed(process.execPath, [bin, ...where, 'repo', 'init', '--compression', 'zstd:3']);
    return () => {
      const t = timed(process.execPath, [bin, ...where, '--json', 'backup', '--method', 'local', '--jobs', '2']);
      return { seconds: t.seconds, stored: JSON.parse(t.stdout).storedBytes };
    };
  };
  const backups = { pgkeep: pgkeepIn(pgkeepBin, join(dir, 'pgkeep-repo')) };
  if (baseline) backups.baseline = pgkeepIn(join(baseline, 'bin/pgkeep.js'), join(dir, 'baseline-repo'));
  const pbr = pgbackrestStanza(join(dir, 'pgbackrest'), cluster);
  pbr.run(['stanza-create']);
  const pbrBackup = (type) => {
    const before = du(join(pbr.dir, 'repo', 'backup'));
    const t = pbr.run(['backup', `--type=${type}`]);
    return { seconds: t.seconds, stored: du(join(pbr.dir, 'repo', 'backup')) - before };
  };
  backups.pgbackrest = () => pbrBackup('incr');
  log(`full backups: ${Object.keys(backups).join(', ')}`);
  for (const [tool, take] of Object.entries(backups)) {
    const full = tool === 'pgbackrest' ? pbrBackup('full') : take();
    log(`  ${tool} full: ${MB(full.stored)} in ${full.seconds} s`);
  }
  const conn = ['-h', cluster.socketDir, '-p', String(cluster.port), '-U', 'postgres'];
  for (let i = 1; i <= rounds; i++) {
    log(`round ${i}/${rounds}: pgbench -n -c 2 -t ${transactions}, 0.1% of bench_orders updated`);
    timed(pgToolPath(cluster.binDir, 'pgbench'), [...conn, '-n', '-c', '2', '-t', String(transactions), 'postgres']);
    await cluster.exec(`UPDATE bench_orders SET status = 'returned' WHERE id > ${rows - Math.floor(rows / 1000)}`);
    await cluster.exec('CHECKPOINT');
    await sleep(2100); // pgkeep reads files changed within 2 s of its start whatever their mtime
    // the order rotates, so no tool always reads a cache another one warmed
    const tools = Object.keys(backups);
    const s = {};
    for (let k = 0; k < tools.length; k++) {
      const tool = tools[(i + k) % tools.length];
      s[tool] = backups[tool]();
      log(`  ${tool}: ${MB(s[tool].stored)} in ${s[tool].seconds} s`);
    }
    samples.push(s);
  }
} finally {
  await cluster.destroy();
  if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
}

const mid = (tool, key) => median(samples.map((s) => s[tool][key]));
console.log(`\ndataset: pgbench -s ${scale} + bench_orders rows=${rows}: cluster ${MB(clusterBytes)}; ${rounds} incremental rounds\n`);
for (const [i, s] of samples.entries()) {
  const each = Object.entries(s).map(([tool, x]) => `${tool} ${MB(x.stored).padStart(8)} ${x.seconds.toFixed(1).padStart(6)} s`);
  console.log(`round ${i + 1}: ${each.join('   ')}`);
}
const report = (label, value, goal) =>
  console.log(`${label.padEnd(58)} ${value.toFixed(2).padStart(6)}  (goal <= ${goal}) ${value <= goal ? 'met' : 'NOT met'}`);
console.log('\nmedians, pgkeep / pgBackRest 2.59.1:');
report('incremental stored bytes, local vs pgBackRest incr', mid('pgkeep', 'stored') / mid('pgbackrest', 'stored'), 1.0);
report('incremental time, local vs pgBackRest incr', mid('pgkeep', 'seconds') / mid('pgbackrest', 'seconds'), 1.0);
if (baseline) {
  console.log(`baseline (${baseline}): stored ${MB(mid('baseline', 'stored'))}, ${mid('baseline', 'seconds').toFixed(1)} s (median)`);
  report('incremental stored bytes, baseline vs pgBackRest incr', mid('baseline', 'stored') / mid('pgbackrest', 'stored'), 1.0);
  report('incremental time, baseline vs pgBackRest incr', mid('baseline', 'seconds') / mid('pgbackrest', 'seconds'), 1.0);
}
console.log(`\n${JSON.stringify({ dataset: { scale, rows, clusterBytes }, transactions, samples })}`);
