#!/usr/bin/env bash
# Logical backup benchmark (not part of npm test): pgkeep dump vs pg_dump -Fc and pg_dump -Fd -j 2,
# time and stored size; restore time of pgkeep restore-dump (default jobs, and --jobs 1) vs
# pg_restore of pg_dump's own -Fc archive (one job, and -j 2), each into a fresh database,
# ROUNDS times in turn; medians, and the ratio of each to single-job pg_restore. Beside the wall
# time, the CPU seconds of the tool (with its children: pg_restore, node's worker threads) and of
# the server (every backend and background process: postmaster's own and reaped children's time),
# which a busy machine changes much less than the wall time.
#   ROWS=4000000 ROUNDS=3 bench/logical/run.sh        (needs a built tree: npm run build)
# Uses a throwaway cluster from src/pg/local-cluster.ts and temp directories; removes them at the end.
set -euo pipefail
# This machine sets NODE_EXTRA_CA_CERTS (each node start parses 220 KB of certificates, ~50 ms of
# CPU, that a local repository never needs): the benchmarks run without it.
unset NODE_EXTRA_CA_CERTS
ROWS=${ROWS:-4000000}
ROUNDS=${ROUNDS:-3}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
DATASET=${DATASET:-$HERE/../shared/bench/dataset.sql}
exec node --input-type=module - "$HERE" "$DATASET" "$ROWS" "$ROUNDS" <<'JS'
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const [here, dataset, rows, rounds] = process.argv.slice(2);
const { LocalCluster } = await import(join(here, 'dist/pg/local-cluster.js'));
const dir = mkdtempSync(join(tmpdir(), 'pgkeep-bench-logical-'));
const cluster = await LocalCluster.create({ settings: { fsync: false, synchronous_commit: 'off' } });
const du = (p) => { const s = statSync(p); return s.isDirectory() ? readdirSync(p).reduce((t, f) => t + du(join(p, f)), 0) : s.size; };
const mb = (b) => `${(b / 1048576).toFixed(0)} MiB`;
const tick = Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100;
/** CPU seconds of the server so far: the postmaster and its live children, and what it reaped. */
const serverCpu = () => {
  const pm = readFileSync(join(cluster.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
  const kids = spawnSync('pgrep', ['-P', pm]).stdout.toString().split('\n').filter(Boolean);
  let t = 0;
  for (const [i, pid] of [pm, ...kids].entries()) {
    let f;
    try { f = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { continue; }
    const v = f.slice(f.lastIndexOf(')') + 2).split(' ').map(Number); // v[11..14]: utime stime cutime cstime
    t += v[11] + v[12] + (i === 0 ? v[13] + v[14] : 0);
  }
  return t / tick;
};
let last = { tool: 0, s0: 0 };
const timed = (label, file, args, env = {}) => {
  const s0 = serverCpu();
  const t = Date.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', join(dir, 'time.txt'), file, ...args], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${label} failed (${r.status})`);
  const wall = (Date.now() - t) / 1000;
  const [u, sy] = readFileSync(join(dir, 'time.txt'), 'utf8').trim().split(' ').map(Number);
  last = { tool: u + sy, s0 };
  return wall;
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
  const cpus = restores.map(() => []);
  for (let round = 0; round < Number(rounds); round++) {
    for (const [i, [, run]] of restores.entries()) {
      await cluster.exec('DROP DATABASE IF EXISTS r'); await cluster.exec('CREATE DATABASE r');
      await cluster.exec('CHECKPOINT');
      times[i].push(run('r'));
      await new Promise((r) => setTimeout(r, 300)); // the backends' exit reaches the postmaster's counters
      cpus[i].push({ tool: last.tool, server: serverCpu() - last.s0 });
    }
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  const base = median(times[2]);
  console.log(`rows=${rows} rounds=${rounds}`);
  for (const [what, s, size] of res) console.log(`${what.padEnd(40)} ${s.toFixed(1).padStart(7)} s  ${size ? mb(size) : ''}`);
  for (const [i, [what]] of restores.entries()) {
    const m = median(times[i]);
    const tool = median(cpus[i].map((c) => c.tool));
    const server = median(cpus[i].map((c) => c.server));
    console.log(`${what.padEnd(40)} ${m.toFixed(1).padStart(7)} s  ${(m / base).toFixed(2)}x single-job pg_restore  (${times[i].map((t) => t.toFixed(1)).join(' / ')})  CPU: tool ${tool.toFixed(1)} s, server ${server.toFixed(1)} s`);
  }
} finally {
  await cluster.destroy();
  rmSync(dir, { recursive: true, force: true });
}
JS
