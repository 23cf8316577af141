#!/usr/bin/env node
// Asynchronous archiving benchmark (not part of npm test): pgkeep `wal push` with [archive] async
// against pgBackRest archive-push with archive-async=y process-max=2, on fresh throwaway clusters,
// ROUNDS times interleaved (pgkeep, pgBackRest, pgkeep, ...) because the machine may be shared.
// Per run:
//   1. drain: archive_command fails while WAL is written until BACKLOG+ segments are .ready; then
//      it is fixed, and the time until the last .ready is gone is measured;
//   2. latency: pgbench at full speed for DURATION seconds, beside a bulk writer; the median archive_command latency
//      (a timing wrapper around the command) is measured.
//
// CPU: when a cgroup v1 cpuacct hierarchy is writable (root), each run's server and everything it
// starts (archive_command, pgkeep's detached pusher, pgBackRest's async process) is accounted in a
// cgroup of its own, and the CPU the drain used is printed beside its time: the figure to compare
// on a busy machine, where the wall times mostly measure the other load.
//
//   npm run build && PGBACKREST_BIN=/path/to/pgbackrest node bench/wal/drain.mjs \
//     [--rounds 3] [--backlog 45] [--duration 20] [--clients 4] [--jobs 2] [--only pgkeep|pgbackrest]
//     [--compression CODEC]   pgkeep's [archive] compression (default zstd:1; pgBackRest uses zstd:3)
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { LocalCluster } from '../../dist/pg/local-cluster.js';
import { chownTreeToServerUser } from '../../dist/pg/server-user.js';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const ROUNDS = Number(arg('rounds', '3'));
const BACKLOG = Number(arg('backlog', '45'));
const DURATION = Number(arg('duration', '20'));
const CLIENTS = Number(arg('clients', '4'));
const JOBS = Number(arg('jobs', '2'));
const ONLY = arg('only', '');
const COMPRESSION = arg('compression', ''); // pgkeep's [archive] compression (default: its own default)
const PGBACKREST = process.env.PGBACKREST_BIN;
const CLI = resolve('bin/pgkeep.js');
// archive_command runs the sh front (the package's bin): acknowledged pushes never start node.
const FRONT = resolve('bin/pgkeep');
const PG_BIN = '/usr/lib/postgresql/15/bin';
if (!PGBACKREST && ONLY !== 'pgkeep') throw new Error('set PGBACKREST_BIN to a pgBackRest 2.59.1 binary (or --only pgkeep)');
delete process.env.PGBACKREST_BIN; // pgBackRest reads PGBACKREST_* as its options ('bin' is none)
// This machine sets NODE_EXTRA_CA_CERTS: every node process then parses 220 KB of certificates at
// start (about 50 ms of CPU), which a repository on local disk never needs and pgBackRest never
// pays. The benchmarks run without it (README says so).
delete process.env.NODE_EXTRA_CA_CERTS;
const root = mkdtempSync(join(tmpdir(), 'pgkeep-bench-drain-'));
chmodSync(root, 0o755);
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** archive_command: fails while `fail` exists; otherwise runs the command and logs "<file> <t0 ns> <t1 ns> <rc>". */
function wrapper(dir, command) {
  const script = join(dir, 'archive.sh');
  const log = join(dir, 'latency.log');
  const fail = join(dir, 'fail');
  writeFileSync(
    script,
    `#!/bin/sh\n[ -e ${fail} ] && exit 1\nt0=$(date +%s%N)\n${command} "$1"\nrc=$?\n` +
      `echo "$2 $t0 $(date +%s%N) $rc" >> ${log}\nexit $rc\n`,
  );
  chmodSync(script, 0o755);
  writeFileSync(log, '');
  return { command: `${script} %p %f`, log, fail };
}

const CPUACCT = '/sys/fs/cgroup/cpuacct';

/** A cpuacct cgroup holding the server's processes (and so everything they start), or undefined. */
function cpuGroup(name, dataDir) {
  const dir = join(CPUACCT, `pgkeep-bench-${process.pid}-${name}`);
  try {
    mkdirSync(dir);
  } catch {
    return undefined;
  }
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pids = [postmaster];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] === String(postmaster)) pids.push(Number(p));
    } catch {
      // gone
    }
  }
  for (const pid of pids) writeFileSync(join(dir, 'cgroup.procs'), `${pid}\n`);
  return {
    seconds: () => Number(readFileSync(join(dir, 'cpuacct.usage'), 'utf8')) / 1e9,
    remove() {
      try {
        for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
          writeFileSync(join(CPUACCT, 'cgroup.procs'), `${pid}\n`);
        }
        rmdirSync(dir);
      } catch {
        // a process left meanwhile; the empty group is removed at the next run's end at worst
      }
    },
  };
}

/** CPU seconds used so far by pgkeep's background pusher (alive for 10 s after a drain), or NaN. */
function pusherCpu(dataDir) {
  try {
    const root = join(dataDir, 'pg_wal', 'pgkeep-spool');
    const spool = readdirSync(root).find((d) => d.startsWith('push-'));
    const pid = readFileSync(join(root, spool, 'pusher.lock'), 'utf8').trim();
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

function countReady(dataDir) {
  try {
    return readdirSync(join(dataDir, 'pg_wal', 'archive_status')).filter((f) => f.endsWith('.ready')).length;
  } catch {
    return -1;
  }
}

async function waitReady(cluster, n, seconds) {
  for (let i = 0; i < seconds * 20; i++) {
    if (countReady(cluster.dataDir) <= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`archive backlog did not drain in ${seconds}s; server log:\n${cluster.logTail(20)}`);
}

/** Successful and failed archive_command calls in a wrapper's log, and the median time of the successful ones. */
function latencies(log) {
  const lat = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [, a, b, rc] = l.split(' ');
      return { ms: Number(BigInt(b) - BigInt(a)) / 1e6, rc: Number(rc) };
    });
  const ok = lat
    .filter((x) => x.rc === 0)
    .map((x) => x.ms)
    .sort((a, b) => a - b);
  return { ok: ok.length, failed: lat.length - ok.length, medianMs: ok[Math.floor(ok.length / 2)] ?? NaN };
}

async function oneRun(kind, round) {
  const dir = join(root, `${kind}-${round}`);
  mkdirSync(dir);
  let command;
  const conf = join(dir, kind === 'pgkeep' ? 'pgkeep.toml' : 'pgbackrest.conf');
  if (kind === 'pgkeep') {
    const repo = join(dir, 'repo');
    run(process.execPath, [CLI, '--repo', repo, 'repo', 'init']);
    writeFileSync(
      conf,
      `[repo]\npath = "${repo}"\n\n[archive]\nasync = true\npush_jobs = ${JOBS}\n${COMPRESSION ? `compression = "${COMPRESSION}"\n` : ''}`,
    );
    command = `env -u PGKEEP_CONFIG PGKEEP_NODE=${process.execPath} ${FRONT} --config ${conf} --cluster bench wal push`;
  } else {
    for (const d of ['repo', 'log', 'lock', 'spool']) mkdirSync(join(dir, d));
    command = `${PGBACKREST} --config=${conf} --stanza=bench archive-push`;
  }
  const w = wrapper(dir, command);
  chownTreeToServerUser(dir);
  const cluster = await LocalCluster.create({
    settings: {
      wal_level: 'replica',
      archive_mode: 'on',
      archive_command: w.command,
      max_wal_size: '4GB',
      synchronous_commit: 'off',
      shared_buffers: '128MB',
      checkpoint_timeout: '15min',
    },
  });
  let cpu;
  try {
    await cluster.start();
    cpu = cpuGroup(`${kind}-${round}`, cluster.dataDir);
    if (kind === 'pgbackrest') {
      writeFileSync(
        conf,
        [
          '[global]',
          `repo1-path=${join(dir, 'repo')}`,
          `log-path=${join(dir, 'log')}`,
          `lock-path=${join(dir, 'lock')}`,
          `spool-path=${join(dir, 'spool')}`,
          'compress-type=zst',
          'repo1-bundle=y',
          'repo1-block=y',
          `process-max=${JOBS}`,
          'archive-async=y',
          'log-level-console=warn',
          'log-level-file=warn',
          '[bench]',
          `pg1-path=${cluster.dataDir}`,
          `pg1-socket-path=${cluster.socketDir}`,
          `pg1-port=${cluster.port}`,
          '',
        ].join('\n'),
      );
      chownTreeToServerUser(dir);
      run('runuser', ['-u', 'postgres', '--', PGBACKREST, `--config=${conf}`, '--stanza=bench', 'stanza-create']);
    }
    await cluster.exec('create table t (id int, v text)');
    // 1. The backlog: archive_command fails while WAL is written (--backlog 0: no drain phase).
    if (BACKLOG > 0) writeFileSync(w.fail, '');
    let g = 0;
    while (BACKLOG > 0 && countReady(cluster.dataDir) < BACKLOG) {
      await cluster.exec(`insert into t select g, md5(g::text) || md5((g + 1)::text) from generate_series(${g}, ${g + 199_999}) g`);
      g += 200_000;
    }
    await cluster.exec('select pg_switch_wal()');
    const backlog = countReady(cluster.dataDir);
    if (existsSync(w.fail)) unlinkSync(w.fail);
    const t0 = Date.now();
    const cpu0 = cpu?.seconds();
    await cluster.exec('insert into t values (0)');
    await cluster.exec('select pg_switch_wal()'); // wakes the archiver, sleeping after its failures
    await waitReady(cluster, 0, 600);
    const drainSeconds = (Date.now() - t0) / 1000;
    const drainCpuSeconds = cpu ? cpu.seconds() - cpu0 : NaN;
    const pusherCpuSeconds = kind === 'pgkeep' ? pusherCpu(cluster.dataDir) : NaN;
    const storedMB = Number(run('du', ['-sb', join(dir, 'repo')]).split('\t')[0]) / 1e6; // the drained WAL, mostly
    const drainCalls = latencies(w.log);
    // 2. Latency under pgbench at full speed.
    const conn = ['-h', cluster.socketDir, '-p', String(cluster.port), '-U', 'postgres'];
    run(join(PG_BIN, 'pgbench'), [...conn, '-i', '-q', '-s', '5', 'postgres']);
    await waitReady(cluster, 0, 300);
    writeFileSync(w.log, '');
    const pgbench = spawn(join(PG_BIN, 'pgbench'), [...conn, '-c', String(CLIENTS), '-j', '2', '-T', String(DURATION), '-n', 'postgres'], {
      stdio: 'ignore',
    });
    let running = true;
    const done = new Promise((r) => pgbench.on('close', () => r((running = false))));
    // pgbench alone fills a segment every few seconds on a slow machine: a bulk writer beside it
    // fills them at full speed, so that enough archive_command calls are timed.
    while (running) {
      await cluster.exec(`insert into t select g, md5(g::text) || md5((g + 1)::text) from generate_series(${g}, ${g + 49_999}) g`);
      g += 50_000;
    }
    await done;
    await waitReady(cluster, 0, 300);
    const calls = latencies(w.log);
    return {
      kind,
      round,
      backlog,
      drainSeconds,
      drainCpuSeconds,
      pusherCpuSeconds,
      storedMB,
      drainCallMedianMs: drainCalls.medianMs,
      pushes: calls.ok,
      failures: calls.failed,
      medianMs: calls.medianMs,
    };
  } finally {
    await cluster.destroy();
    cpu?.remove();
  }
}

const kinds = ['pgkeep', 'pgbackrest'].filter((k) => !ONLY || ONLY === k);
const results = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (const kind of kinds) {
    process.stderr.write(`round ${round}: ${kind}...\n`);
    const r = await oneRun(kind, round);
    process.stderr.write(`  ${JSON.stringify(r)}\n`);
    results.push(r);
  }
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const kind of kinds) {
  const rs = results.filter((r) => r.kind === kind);
  console.log(
    `${kind.padEnd(10)} drain of ${rs.map((r) => r.backlog).join('/')} segments: ${rs.map((r) => r.drainSeconds.toFixed(1)).join(', ')} s` +
      ` (CPU ${rs.map((r) => r.drainCpuSeconds.toFixed(1)).join(', ')} s, call wait ${rs.map((r) => r.drainCallMedianMs.toFixed(0)).join(', ')} ms,` +
      ` repository ${rs.map((r) => r.storedMB.toFixed(0)).join(', ')} MB)` +
      `   archive_command median latency under pgbench: ${rs.map((r) => r.medianMs.toFixed(0)).join(', ')} ms (${rs.map((r) => r.pushes).join('/')} pushes)`,
  );
}
if (kinds.length === 2) {
  const [a, b] = kinds.map((k) => results.filter((r) => r.kind === k));
  console.log(
    `ratio pgkeep/pgBackRest (medians of the rounds): drain ${(med(a.map((r) => r.drainSeconds)) / med(b.map((r) => r.drainSeconds))).toFixed(2)}x, ` +
      `drain CPU ${(med(a.map((r) => r.drainCpuSeconds)) / med(b.map((r) => r.drainCpuSeconds))).toFixed(2)}x, ` +
      `latency ${(med(a.map((r) => r.medianMs)) / med(b.map((r) => r.medianMs))).toFixed(2)}x`,
  );
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results, null, 2));
