#!/usr/bin/env node
// WAL streaming benchmark (not part of npm test): pgbench at full speed for DURATION seconds on a
// throwaway cluster while `pgkeep wal stream --slot bench --create-slot` stores the WAL in a posix
// repository. Every second it samples the replication lag as the server sees it
// (pg_stat_replication: sent_lsn - flush_lsn in bytes, flush_lag) and the receiver's own view
// (its --json progress lines). After pgbench ends it measures how long the receiver needs until
// everything written is flushed (catch-up), and the receiver's peak memory.
//
//   npm run build && node bench/wal/stream.mjs [--duration 60] [--scale 10] [--clients 4] [--synchronous]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalCluster } from '../../dist/pg/local-cluster.js';
import { parseLsn, formatLsn } from '../../dist/pg/lsn.js';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const DURATION = Number(arg('duration', '60'));
const SCALE = Number(arg('scale', '10'));
const CLIENTS = Number(arg('clients', '4'));
const SYNC = process.argv.includes('--synchronous');
const CLI = resolve('bin/pgkeep.js');
const root = mkdtempSync(join(tmpdir(), 'pgkeep-bench-stream-'));
let cluster;
let receiver;
process.on('exit', () => {
  receiver?.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const MiB = 1024 * 1024;
const pct = (xs, p) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (b) => (b === null ? '-' : `${(b / MiB).toFixed(1)} MiB`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

try {
  cluster = await LocalCluster.create({
    settings: {
      wal_level: 'replica',
      max_wal_senders: 5,
      max_replication_slots: 5,
      max_wal_size: '4GB',
      checkpoint_timeout: '15min',
    },
    hba: ['local replication all trust', 'host replication all 127.0.0.1/32 trust'],
  });
  await cluster.start();
  const repo = join(root, 'repo');
  run(process.execPath, [CLI, '--repo', repo, 'repo', 'init']);
  const pgbench = join(cluster.binDir, 'pgbench');
  const conn = ['-h', cluster.socketDir, '-p', String(cluster.port), '-U', cluster.superuser];
  run(pgbench, ['-i', '-q', '-s', String(SCALE), ...conn, 'postgres']);

  // the receiver, with its JSON lines and its peak RSS (from /proc)
  receiver = spawn(
    process.execPath,
    [
      CLI,
      '--repo',
      repo,
      '-d',
      cluster.connectionString(),
      '--cluster',
      'bench',
      '--json',
      'wal',
      'stream',
      '--slot',
      'bench',
      '--create-slot',
      '--status-interval',
      '1',
      ...(SYNC ? ['--synchronous'] : []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PGKEEP_CONFIG: '/dev/null' } },
  );
  const progress = [];
  let segments = 0;
  let buf = '';
  let err = '';
  receiver.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.trim()) continue;
      const ev = JSON.parse(line);
      if (ev.type === 'progress' && ev.lagBytes !== null) progress.push(Number(ev.lagBytes));
      if (ev.type === 'segment') segments++;
    }
  });
  receiver.stderr.on('data', (d) => (err += d));
  let peakRss = 0;
  const rss = () => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(run('cat', [`/proc/${receiver.pid}/status`]));
      if (m) peakRss = Math.max(peakRss, Number(m[1]) * 1024);
    } catch {
      /* exited */
    }
  };
  for (let i = 0; i < 100; i++) {
    const [r] = await cluster.query(`SELECT count(*)::int AS n FROM pg_stat_replication WHERE application_name = 'pgkeep'`);
    if (r.n > 0) break;
    if (receiver.exitCode !== null) throw new Error(`wal stream exited: ${err}`);
    await sleep(100);
  }

  if (SYNC) {
    // commits now wait until the receiver reports their WAL flushed (= stored in the repository)
    await cluster.exec(`ALTER SYSTEM SET synchronous_standby_names = 'pgkeep'`);
    await cluster.exec('SELECT pg_reload_conf()');
  }
  const [{ lsn: startLsn }] = await cluster.query('SELECT pg_current_wal_lsn()::text AS lsn');
  const serverLag = [];
  const writeLag = [];
  const flushLagMs = [];
  const t0 = Date.now();
  const bench = spawn(
    pgbench,
    ['-c', String(CLIENTS), '-j', String(Math.min(CLIENTS, 2)), '-T', String(DURATION), '-n', ...conn, 'postgres'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let benchOut = '';
  bench.stdout.on('data', (d) => (benchOut += d));
  const benchDone = new Promise((res) => bench.on('close', res));
  let running = true;
  benchDone.then(() => (running = false));
  while (running) {
    await sleep(1000);
    rss();
    const [r] = await cluster.query(`SELECT (pg_current_wal_lsn() - flush_lsn)::bigint AS lag,
      (pg_current_wal_lsn() - write_lsn)::bigint AS wlag, extract(epoch from flush_lag) * 1000 AS flush_ms
      FROM pg_stat_replication WHERE application_name = 'pgkeep'`);
    if (r) {
      serverLag.push(Number(r.lag));
      writeLag.push(Number(r.wlag));
      if (r.flush_ms !== null) flushLagMs.push(Number(r.flush_ms));
    }
  }
  const benchSeconds = (Date.now() - t0) / 1000;
  const [{ lsn: endLsn }] = await cluster.query('SELECT pg_current_wal_lsn()::text AS lsn');
  // catch-up: until the slot's position (= the receiver's reported flush) passes the last full segment written
  const segEnd = parseLsn(endLsn) - (parseLsn(endLsn) % BigInt(16 * MiB));
  const c0 = Date.now();
  let caughtUp = null;
  for (let i = 0; i < 600; i++) {
    const [r] = await cluster.query(`SELECT restart_lsn::text AS l FROM pg_replication_slots WHERE slot_name = 'bench'`);
    if (r?.l && parseLsn(r.l) >= segEnd) {
      caughtUp = (Date.now() - c0) / 1000;
      break;
    }
    rss();
    await sleep(200);
  }
  receiver.kill('SIGTERM');
  const code = await new Promise((res) => receiver.on('close', res));
  const tps = /tps = ([\d.]+)/.exec(benchOut)?.[1];
  const walBytes = Number(parseLsn(endLsn) - parseLsn(startLsn));
  const summary = {
    mode: SYNC ? 'synchronous' : 'async',
    durationSeconds: benchSeconds,
    clients: CLIENTS,
    scale: SCALE,
    tps: tps ? Number(tps) : null,
    walBytes,
    walMiBPerSecond: +(walBytes / MiB / benchSeconds).toFixed(1),
    segmentsStored: segments,
    receiveLagBytes: { median: pct(writeLag, 50), p95: pct(writeLag, 95), max: pct(writeLag, 100) },
    serverLagBytes: { median: pct(serverLag, 50), p95: pct(serverLag, 95), max: pct(serverLag, 100), samples: serverLag.length },
    serverFlushLagMs: { median: pct(flushLagMs, 50), p95: pct(flushLagMs, 95), max: pct(flushLagMs, 100) },
    receiverLagBytes: { median: pct(progress, 50), p95: pct(progress, 95), max: pct(progress, 100) },
    catchUpSeconds: caughtUp,
    receiverPeakRssMiB: +(peakRss / MiB).toFixed(1),
    receiverExit: code,
    range: `${startLsn}..${formatLsn(parseLsn(endLsn))}`,
  };
  console.log(JSON.stringify(summary, null, 2));
  console.error(
    `\nwal stream (${summary.mode}): ${summary.walMiBPerSecond} MiB/s of WAL at ${summary.tps} tps; ` +
      `receive lag median ${fmt(summary.receiveLagBytes.median)}, max ${fmt(summary.receiveLagBytes.max)}; flush lag (current - flush) ` +
      `median ${fmt(summary.serverLagBytes.median)}, p95 ${fmt(summary.serverLagBytes.p95)}, max ${fmt(summary.serverLagBytes.max)}; ` +
      `caught up ${caughtUp ?? '?'} s after pgbench; receiver peak RSS ${summary.receiverPeakRssMiB} MiB; exit ${code}`,
  );
} finally {
  receiver?.kill('SIGKILL');
  await cluster?.destroy();
}
