#!/usr/bin/env node
// `pgkeep agent` benchmark (not part of npm test): what the service itself costs and how fast it
// reacts, on a throwaway cluster archiving into a posix repository, with a backup every
// INTERVAL seconds and a supervised `wal stream`:
//   - schedule delay: cron time -> the job's start event, and the backup's duration through the
//     agent next to the same `pgkeep backup` run directly (the child-process overhead);
//   - the agent's own memory (RSS, its children excluded) and CPU time while idle between jobs;
//   - the `wal stream` child killed with -9 -> a new receiver running (backoff starts at 1 s);
//   - SIGTERM during a backup -> the agent's exit.
// pgBackRest has no long-lived scheduler to compare with (it is run from cron); the anchors for
// the WAL paths are in bench/wal.
//
//   npm run build && node bench/agent/run.mjs [--rounds 3] [--interval 10]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { LocalCluster } from '../../dist/pg/local-cluster.js';
import { chownTreeToServerUser, ensureTraversable } from '../../dist/pg/server-user.js';
import { agentPaths } from '../../dist/agent/state-path.js';
import { loadConfig } from '../../dist/config/load.js';

const { values: opts } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, interval: { type: 'string', default: '10' } } });
const ROUNDS = Number(opts.rounds);
const INTERVAL = Number(opts.interval);
const CLI = resolve('bin/pgkeep.js');
const root = mkdtempSync(join(tmpdir(), 'pgkeep-bench-agent-'));
let cluster;
let agent;
process.on('exit', () => {
  agent?.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const env = { ...process.env, HOME: root };
for (const k of Object.keys(env)) if (k.startsWith('PGKEEP_')) delete env[k];
function run(args) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`pgkeep ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return { out: r.stdout, ms: performance.now() - t };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const procStat = (pid) => {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  return { cpuTicks: Number(s[11]) + Number(s[12]), rss };
};
async function until(pred, what, ms = 60_000) {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

try {
  const repo = join(root, 'repo');
  run(['--repo', repo, 'repo', 'init']);
  ensureTraversable(repo);
  chownTreeToServerUser(repo);
  cluster = await LocalCluster.create({
    settings: {
      wal_level: 'replica',
      archive_mode: 'on',
      max_wal_senders: 5,
      max_replication_slots: 5,
      archive_command: `${process.execPath} ${CLI} --repo ${repo} --cluster main wal push %p`,
    },
    hba: ['local replication all trust'],
  });
  await cluster.start();
  spawnSync(join(cluster.binDir, 'pgbench'), [
    '-i',
    '-q',
    '-s',
    '10',
    '-h',
    cluster.socketDir,
    '-p',
    String(cluster.port),
    '-U',
    cluster.superuser,
    'postgres',
  ]);
  const config = join(root, 'pgkeep.toml');
  writeFileSync(
    config,
    `[repo]\npath = "${repo}"\n[agent]\nstate_dir = "${join(root, 'state')}"\n` +
      `[cluster.main]\nconnection = "${cluster.connectionString()}"\n` +
      `[cluster.main.schedule]\nbackup_incremental = "*/${INTERVAL} * * * * *"\nstream = true\nstream_slot = "bench"\n`,
  );
  const stateFile = agentPaths(loadConfig({ config }, env), repo).stateFile;
  const state = () => JSON.parse(readFileSync(stateFile, 'utf8'));
  const direct = [];
  for (let i = 0; i < ROUNDS; i++) direct.push(run(['--config', config, '--json', 'backup']).ms);

  let out = '';
  agent = spawn(process.execPath, [CLI, '--config', config, 'agent'], { stdio: ['ignore', 'pipe', 'inherit'], env });
  agent.stdout.on('data', (d) => (out += d));
  const events = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
  await until(
    () => events().filter((e) => e.event === 'job-end').length >= ROUNDS,
    `${ROUNDS} scheduled backups`,
    (ROUNDS + 2) * INTERVAL * 1000,
  );
  const starts = events()
    .filter((e) => e.event === 'job-start')
    .slice(0, ROUNDS);
  const delays = starts.map((e) => {
    const t = new Date(e.time);
    return (t.getUTCSeconds() % INTERVAL) * 1000 + t.getUTCMilliseconds();
  });
  const ends = events()
    .filter((e) => e.event === 'job-end')
    .slice(0, ROUNDS);
  assertOk(ends);

  // idle: the time between two backups (the stream keeps running)
  await until(() => state().clusters.main.jobs.backup_incremental.running === null, 'an idle moment');
  const a = procStat(agent.pid);
  await sleep(Math.max(1000, (INTERVAL - 3) * 1000) / 2);
  const b = procStat(agent.pid);
  const idleMs = Math.max(1000, (INTERVAL - 3) * 1000) / 2;

  const restarts = [];
  for (let i = 0; i < ROUNDS; i++) {
    await until(() => state().clusters.main.stream?.status === 'running', 'a running receiver');
    const { pid, restarts: n } = state().clusters.main.stream;
    const t = performance.now();
    process.kill(pid, 'SIGKILL');
    await until(() => {
      const s = state().clusters.main.stream;
      return s.status === 'running' && s.restarts === n + 1;
    }, 'the restart');
    restarts.push(performance.now() - t);
  }

  await until(() => state().clusters.main.jobs.backup_incremental.running?.pid, 'a backup in progress', INTERVAL * 2000);
  const t = performance.now();
  agent.kill('SIGTERM');
  const code = await new Promise((r) => agent.on('close', r));
  const stopMs = performance.now() - t;

  console.log(
    JSON.stringify(
      {
        rounds: ROUNDS,
        scheduleDelayMs: { median: median(delays), max: Math.max(...delays) },
        backupSeconds: { throughAgent: median(ends.map((e) => e.seconds)), direct: median(direct) / 1000 },
        agentIdle: { rssMiB: +(b.rss / 1048576).toFixed(1), cpuPercent: +((((b.cpuTicks - a.cpuTicks) * 10) / idleMs) * 100).toFixed(2) },
        streamRestartSeconds: restarts.map((ms) => +(ms / 1000).toFixed(2)),
        stopDuringBackup: { seconds: +(stopMs / 1000).toFixed(2), exitCode: code },
      },
      null,
      2,
    ),
  );
} finally {
  await cluster?.destroy();
}

function assertOk(ends) {
  const bad = ends.filter((e) => e.result !== 'ok');
  if (bad.length) throw new Error(`scheduled backups failed: ${bad.map((e) => e.message).join('; ')}`);
}
