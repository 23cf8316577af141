#!/usr/bin/env node
// Restore benchmark (issue 14): pgkeep restore --jobs 2 against pgBackRest 2.59.1 restore
// (repo1-bundle=y repo1-block=y compress-type=zst process-max=2) of the same cluster, several
// rounds alternating the two tools; prints the median wall time, CPU time (user + system, so
// CPU/wall shows how busy the 2 cores were) and peak RSS of each, and the ratio.
//
//   node bench/physical/restore.mjs [--scale 50] [--rows 2000000] [--rounds 3] [--dir DIR] [--baseline CHECKOUT]
//
// With --dir, the backups are made once into DIR and reused by later runs with the same --dir
// (iterate on restore without rebuilding the dataset); without it a temp dir is used and removed.
// With --baseline, each round also restores with the pgkeep of another built checkout (e.g. a
// `git worktree` of the commit before a change), so a change is measured under the same load.
// Not part of `npm test`. Needs `npm run build`, root, /usr/bin/time and pgBackRest 2.59.1.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  arg,
  buildDataset,
  give,
  log,
  MB,
  median,
  pgbackrestBin,
  pgbackrestStanza,
  pgkeepBin,
  root,
  timed,
  traversable,
  warmPageCache,
} from './common.mjs';

const scale = Number(arg('scale', 50));
const rows = Number(arg('rows', 2000000));
const rounds = Number(arg('rounds', 3));
const keepDir = arg('dir');
const baseline = arg('baseline');
const base = keepDir ? resolve(keepDir) : mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'pgkeep-bench-restore-'));
mkdirSync(base, { recursive: true });
traversable(base);
give(base);
const statePath = join(base, 'state.json');
const pkRepo = join(base, 'pgkeep-repo');
const pbrDir = join(base, 'pgbackrest');
const pk = (args, bin = pgkeepBin) => timed(process.execPath, [bin, '--repo', pkRepo, '--cluster', 'bench', ...args]);

async function prepare() {
  const { LocalCluster } = await import(join(root, 'dist/pg/local-cluster.js'));
  const cluster = await LocalCluster.create({
    tmpDir: base,
    settings: { wal_level: 'replica', max_wal_senders: 5, shared_buffers: '256MB', max_wal_size: '4GB', checkpoint_timeout: '30min' },
    hba: ['local replication all trust', 'host replication all 127.0.0.1/32 trust'],
  });
  try {
    await cluster.start();
    const size = await buildDataset(cluster, scale, rows);
    log('pgkeep backup --method local --jobs 2');
    const where = ['--pgdata', cluster.dataDir, '-d', cluster.connectionString()];
    pk([...where, 'repo', 'init', '--compression', 'zstd:3']);
    const backup = JSON.parse(pk([...where, '--json', 'backup', '--method', 'local', '--jobs', '2']).stdout);
    log('pgbackrest backup --type=full');
    const pbr = pgbackrestStanza(pbrDir, cluster);
    pbr.run(['stanza-create']);
    pbr.run(['backup', '--type=full']);
    const state = { scale, rows, clusterBytes: size, snapshotId: backup.snapshotId, conf: pbr.conf };
    writeFileSync(statePath, JSON.stringify(state));
    return state;
  } finally {
    await cluster.destroy();
  }
}

const state = existsSync(statePath) ? JSON.parse(readFileSync(statePath, 'utf8')) : await prepare();
const pbrBin = pgbackrestBin();
const runs = { pgkeep: [], pgbackrest: [], ...(baseline ? { baseline: [] } : {}) };
try {
  // Each restore into a new directory, all removed at the end: on an ext4 without a journal (this
  // machine's), a file created within a minute of thousands deleted in its block group costs
  // ~0.5 ms (the allocator skips each recently freed inode), so a removal right before a restore
  // made its time depend on what was removed.
  for (let i = 0; i < rounds; i++) {
    const pkDir = join(base, `restore-pgkeep-${i}`);
    warmPageCache(base, state.clusterBytes);
    log(`round ${i + 1}/${rounds}: pgkeep restore --jobs 2`);
    runs.pgkeep.push(pk(['--json', 'restore', state.snapshotId, '--to', pkDir, '--jobs', '2']));
    if (baseline) {
      warmPageCache(base, state.clusterBytes);
      log(`round ${i + 1}/${rounds}: baseline pgkeep (${baseline}) restore --jobs 2`);
      runs.baseline.push(
        pk(
          ['--json', 'restore', state.snapshotId, '--to', join(base, `restore-baseline-${i}`), '--jobs', '2'],
          join(resolve(baseline), 'bin/pgkeep.js'),
        ),
      );
    }
    const pbrOut = join(base, `restore-pgbackrest-${i}`);
    mkdirSync(pbrOut, { mode: 0o700 });
    give(pbrOut);
    warmPageCache(base, state.clusterBytes);
    log(`round ${i + 1}/${rounds}: pgbackrest restore`);
    runs.pgbackrest.push(
      timed(pbrBin, [`--config=${state.conf}`, '--stanza=bench', 'restore', `--pg1-path=${pbrOut}`], { asPostgres: true }),
    );
  }
} finally {
  if (!keepDir) rmSync(base, { recursive: true, force: true });
  else for (const d of readdirSync(base).filter((n) => n.startsWith('restore-'))) rmSync(join(base, d), { recursive: true, force: true });
}

console.log(
  `\ndataset: pgbench -s ${state.scale} + bench_orders rows=${state.rows}: cluster ${MB(state.clusterBytes)}; ${rounds} rounds\n`,
);
const summary = {};
for (const [tool, rs] of Object.entries(runs)) {
  const s = (summary[tool] = {
    seconds: median(rs.map((r) => r.seconds)),
    cpuSeconds: median(rs.map((r) => r.cpuSeconds)),
    rssMiB: Math.max(...rs.map((r) => r.rssMiB)),
  });
  console.log(
    `${tool.padEnd(12)} restore ${s.seconds.toFixed(2).padStart(7)} s (runs ${rs.map((r) => r.seconds.toFixed(2)).join(', ')})  CPU ${s.cpuSeconds.toFixed(2)} s = ${((100 * s.cpuSeconds) / s.seconds).toFixed(0)}%  RSS ${s.rssMiB.toFixed(0)} MiB`,
  );
}
const ratio = summary.pgkeep.seconds / summary.pgbackrest.seconds;
console.log(
  `\n${'restore time vs pgBackRest 2.59.1 (median)'.padEnd(58)} ${ratio.toFixed(2).padStart(6)}  (goal <= 0.8) ${ratio <= 0.8 ? 'met' : 'NOT met'}`,
);
if (baseline)
  console.log(
    `${'restore time vs the baseline checkout (median)'.padEnd(58)} ${(summary.pgkeep.seconds / summary.baseline.seconds).toFixed(2).padStart(6)}`,
  );
const strip = (rs) => rs.map(({ stdout, ...r }) => r);
console.log(
  `\n${JSON.stringify({ dataset: state, runs: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, strip(v)])), summary })}`,
);
