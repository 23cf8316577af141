#!/usr/bin/env node
// WAL archiving benchmark (not part of npm test): pgbench at full speed for DURATION seconds with
// archive_command = `pgkeep wal push %p`, then the same with `pgbackrest archive-push %p`, each on
// a fresh throwaway cluster. Samples the archive backlog (.ready files) every second and measures
// each push's latency with a timing wrapper around the archive command.
//
//   npm run build && node bench/wal/run.mjs [--duration 60] [--scale 10] [--clients 4] [--only pgkeep|pgbackrest]
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { LocalCluster } from '../../dist/pg/local-cluster.js';
import { chownTreeToServerUser } from '../../dist/pg/server-user.js';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const DURATION = Number(arg('duration', '60'));
const SCALE = Number(arg('scale', '10'));
const CLIENTS = Number(arg('clients', '4'));
const ONLY = arg('only', '');
const CLI = resolve('bin/pgkeep.js');
const root = mkdtempSync(join(tmpdir(), 'pgkeep-bench-wal-'));
chmodSync(root, 0o755); // the server (postgres OS user) runs the archive wrapper from here
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** A shell wrapper that runs the real command and appends "<file> <start ns> <end ns> <exit>" to a log. */
function timingWrapper(dir, command) {
  const script = join(dir, 'archive.sh');
  const log = join(dir, 'latency.log');
  writeFileSync(script, `#!/bin/sh\nt0=$(date +%s%N)\n${command} "$1"\nrc=$?\necho "$2 $t0 $(date +%s%N) $rc" >> ${log}\nexit $rc\n`);
  chmodSync(script, 0o755);
  return { command: `${script} %p %f`, log };
}

async function setup(kind) {
  const dir = join(root, kind);
  mkdirSync(dir);
  let command;
  if (kind === 'pgkeep') {
    const repo = join(dir, 'repo');
    run(process.execPath, [CLI, '--repo', repo, 'repo', 'init']);
    command = `env -u PGKEEP_CONFIG ${process.execPath} ${CLI} --repo ${repo} --cluster bench wal push`;
  } else {
    const conf = join(dir, 'pgbackrest.conf');
    for (const d of ['repo', 'log', 'lock', 'spool']) mkdirSync(join(dir, d));
    command = `pgbackrest --config=${conf} --stanza=bench archive-push`;
    // pg1-path is filled in once the cluster exists (below).
    writeFileSync(conf, '');
    return { dir, conf, command };
  }
  return { dir, command };
}

async function bench(kind) {
  const s = await setup(kind);
  const wrap = timingWrapper(s.dir, s.command);
  chownTreeToServerUser(s.dir);
  const cluster = await LocalCluster.create({
    dataChecksums: true,
    settings: {
      wal_level: 'replica',
      archive_mode: 'on',
      archive_command: wrap.command,
      max_wal_size: '4GB',
      synchronous_commit: 'off',
      shared_buffers: '128MB',
      checkpoint_timeout: '15min',
    },
  });
  try {
    if (kind === 'pgbackrest') {
      writeFileSync(
        s.conf,
        [
          '[global]',
          `repo1-path=${join(s.dir, 'repo')}`,
          `log-path=${join(s.dir, 'log')}`,
          `lock-path=${join(s.dir, 'lock')}`,
          `spool-path=${join(s.dir, 'spool')}`,
          'compress-type=zst',
          'compress-level=3',
          'log-level-console=warn',
          'archive-async=n',
          '[bench]',
          `pg1-path=${cluster.dataDir}`,
          `pg1-socket-path=${cluster.socketDir}`,
          `pg1-port=${cluster.port}`,
          '',
        ].join('\n'),
      );
      chownTreeToServerUser(s.dir);
    }
    await cluster.start();
    if (kind === 'pgbackrest') {
      writeFileSync(s.conf, readFileSync(s.conf, 'utf8').replace(/pg1-port=\d+/, `pg1-port=${cluster.port}`));
      run('runuser', ['-u', 'postgres', '--', 'pgbackrest', `--config=${s.conf}`, '--stanza=bench', 'stanza-create']);
    }
    // Fail fast when archiving does not work at all.
    await cluster.exec('select pg_switch_wal()');
    for (let i = 0; ; i++) {
      const [a] = await cluster.query('select archived_count::int as ok, failed_count::int as failed from pg_stat_archiver');
      if (a.ok > 0) break;
      if (a.failed > 0 || i > 120) throw new Error(`archiving does not work; server log:\n${cluster.logTail(15)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const conn = ['-h', cluster.socketDir, '-p', String(cluster.port), '-U', 'postgres'];
    run('pgbench', [...conn, '-i', '-q', '-s', String(SCALE), 'postgres']);
    // Drain what initialisation produced, so the measured run starts with an empty backlog.
    await waitForBacklog(cluster, 0, 300);
    writeFileSync(wrap.log, '');
    const readyDir = join(cluster.dataDir, 'pg_wal', 'archive_status');
    const backlog = [];
    const t0 = Date.now();
    const sampler = setInterval(() => backlog.push(countReady(readyDir)), 1000);
    const pgbench = spawn('pgbench', [...conn, '-c', String(CLIENTS), '-j', '2', '-T', String(DURATION), '-n', 'postgres'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    pgbench.stdout.on('data', (d) => (out += d));
    pgbench.stderr.on('data', (d) => (out += d));
    await new Promise((r) => pgbench.on('close', r));
    clearInterval(sampler);
    const endBacklog = countReady(readyDir);
    const drainStart = Date.now();
    await waitForBacklog(cluster, 0, 600);
    const drainSeconds = (Date.now() - drainStart) / 1000;
    const lat = readFileSync(wrap.log, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [file, a, b, rc] = l.split(' ');
        return { file, ms: Number(BigInt(b) - BigInt(a)) / 1e6, rc: Number(rc) };
      });
    const ok = lat
      .filter((x) => x.rc === 0)
      .map((x) => x.ms)
      .sort((a, b) => a - b);
    const q = (p) => (ok.length ? ok[Math.min(ok.length - 1, Math.floor(p * ok.length))] : NaN);
    return {
      kind,
      tps: Number((/tps = ([\d.]+)/.exec(out) ?? [])[1]),
      seconds: (Date.now() - t0) / 1000,
      pushes: ok.length,
      failures: lat.length - ok.length,
      latencyMs: { median: q(0.5), p90: q(0.9), max: ok[ok.length - 1] ?? NaN, mean: ok.reduce((a, b) => a + b, 0) / (ok.length || 1) },
      backlog: { max: Math.max(0, ...backlog), atEnd: endBacklog, samples: backlog, drainSeconds },
    };
  } finally {
    await cluster.destroy();
  }
}

function countReady(dir) {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.ready')).length;
  } catch {
    return -1;
  }
}

async function waitForBacklog(cluster, n, seconds) {
  const dir = join(cluster.dataDir, 'pg_wal', 'archive_status');
  for (let i = 0; i < seconds * 4; i++) {
    if (countReady(dir) <= n) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`archive backlog did not drain in ${seconds}s; server log:\n${cluster.logTail(20)}`);
}

const results = [];
for (const kind of ['pgkeep', 'pgbackrest']) {
  if (ONLY && ONLY !== kind) continue;
  process.stderr.write(`running ${kind} (${DURATION}s of pgbench, scale ${SCALE}, ${CLIENTS} clients)...\n`);
  results.push(await bench(kind));
}
for (const r of results) {
  const f = (x) => (Number.isFinite(x) ? x.toFixed(0) : '-');
  console.log(
    `${r.kind.padEnd(10)} tps ${r.tps.toFixed(0)}  segments pushed ${r.pushes} (${r.failures} failed)  ` +
      `push latency median ${f(r.latencyMs.median)} ms, p90 ${f(r.latencyMs.p90)} ms, max ${f(r.latencyMs.max)} ms  ` +
      `backlog max ${r.backlog.max}, at end ${r.backlog.atEnd}, drained in ${r.backlog.drainSeconds.toFixed(1)} s`,
  );
  console.log(`${''.padEnd(10)} .ready backlog per second: ${r.backlog.samples.join(' ')}`);
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results, null, 2));
