#!/usr/bin/env bash
# Logical backup benchmark (not part of npm test): pgkeep dump vs pg_dump -Fc and pg_dump -Fd -j 2,
# time and stored size; restore time of pgkeep restore-dump (default jobs, and --jobs 1) vs
# pg_restore of pg_dump's own -Fc archive (one job, and -j 2), each into a fresh database,
# ROUNDS times in turn; medians, and the ratio of each to single-job pg_restore.
#   ROWS=4000000 ROUNDS=3 bench/logical/run.sh        (needs a built tree: npm run build)
# Uses a throwaway cluster from src/pg/local-cluster.ts and temp directories; removes them at the end.
set -euo pipefail
ROWS=${ROWS:-4000000}
ROUNDS=${ROUNDS:-3}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
DATASET=${DATASET:-$HERE/../shared/bench/dataset.sql}
exec node --input-type=module - "$HERE" "$DATASET" "$ROWS" "$ROUNDS" <<'JS'
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const [here, dataset, rows, rounds] = process.argv.slice(2);
const { LocalCluster } = await import(join(here, 'dist/pg/local-cluster.js'));
const dir = mkdtempSync(join(tmpdir(), 'pgkeep-bench-logical-'));
const cluster = await LocalCluster.create({ settings: { fsync: false, synchronous_commit: 'off' } });
const du = (p) => { const s = statSync(p); return s.isDirectory() ? readdirSync(p).reduce((t, f) => t + du(join(p, f)), 0) : s.size; };
const mb = (b) => `${(b / 1048576).toFixed(0)} MiB`;
const timed = (label, file, args, env = {}) => {
  const t = Date.now();
  const r = spawnSync(file, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${label} failed (${r.status})`);
  return (Date.now() - t) / 1000;
};
try {
  await cluster.start();
  await cluster.exec('CREATE DATABASE bench');
  await cluster.psql(['-v', `rows=${rows}`, '-f', dataset], { database: 'bench' });
  const bin = cluster.binDir;
  const conn = { PGHOST: cluster.socketDir, PGPORT: String(cluster.port), PGUSER: cluster.superuser };
  const pgk = (args) => ['--repo', join(dir, 'repo'), '-d', cluster.connectionString('bench'), ...args];
  const { initRepository } = await import(join(here, 'dist/repo/index.js'));
  await (await initRepository({ path: join(dir, 'repo') })).closeAll();
  const res = [];
  let t = timed('pgkeep dump', process.execPath, [join(here, 'bin/pgkeep.js'), ...pgk(['dump'])]);
  res.push(['pgkeep dump (custom, -Z 0, repo zstd)', t, du(join(dir, 'repo'))]);
  t = timed('pg_dump -Fc', join(bin, 'pg_dump'), ['-Fc', '-f', join(dir, 'b.dump'), 'bench'], conn);
  res.push(['pg_dump -Fc', t, du(join(dir, 'b.dump'))]);
  t = timed('pg_dump -Fd -j 2', join(bin, 'pg_dump'), ['-Fd', '-j', '2', '-f', join(dir, 'b.dir'), 'bench'], conn);
  res.push(['pg_dump -Fd -j 2', t, du(join(dir, 'b.dir'))]);
  const restores = [
    ['pgkeep restore-dump (default jobs)', (db) => timed('pgkeep restore-dump', process.execPath, [join(here, 'bin/pgkeep.js'), ...pgk(['restore-dump', 'latest', '--into', db])])],
    ['pgkeep restore-dump --jobs 1', (db) => timed('pgkeep restore-dump --jobs 1', process.execPath, [join(here, 'bin/pgkeep.js'), ...pgk(['restore-dump', 'latest', '--into', db, '--jobs', '1'])])],
    ['pg_restore (from -Fc file)', (db) => timed('pg_restore', join(bin, 'pg_restore'), ['-d', db, join(dir, 'b.dump')], conn)],
    ['pg_restore -j 2 (from -Fc file)', (db) => timed('pg_restore -j 2', join(bin, 'pg_restore'), ['-j', '2', '-d', db, join(dir, 'b.dump')], conn)],
  ];
  const times = restores.map(() => []);
  for (let round = 0; round < Number(rounds); round++) {
    for (const [i, [, run]] of restores.entries()) {
      await cluster.exec('DROP DATABASE IF EXISTS r'); await cluster.exec('CREATE DATABASE r');
      times[i].push(run('r'));
    }
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  const base = median(times[2]);
  console.log(`rows=${rows} rounds=${rounds}`);
  for (const [what, s, size] of res) console.log(`${what.padEnd(40)} ${s.toFixed(1).padStart(7)} s  ${size ? mb(size) : ''}`);
  for (const [i, [what]] of restores.entries()) {
    const m = median(times[i]);
    console.log(`${what.padEnd(40)} ${m.toFixed(1).padStart(7)} s  ${(m / base).toFixed(2)}x single-job pg_restore  (${times[i].map((t) => t.toFixed(1)).join(' / ')})`);
  }
} finally {
  await cluster.destroy();
  rmSync(dir, { recursive: true, force: true });
}
JS
