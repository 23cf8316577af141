/**
 * `pgkeep agent` through the real CLI, against one real cluster archiving into a posix
 * repository: a scheduled backup runs on time and `list` shows it; SIGHUP picks up a new
 * schedule (and keeps the old one when the new file is bad); a job never overlaps itself; a
 * second agent is refused; the `wal stream` child killed with -9 is restarted and streams again;
 * SIGTERM stops the agent cleanly within its bound; a run missed while it was down is reported.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, LocalCluster } from '../pg/local-cluster.js';
import { pgToolPath } from '../pg/bin.js';
import { newPosixRepo } from '../repo/test-utils.js';
import { chownTreeToServerUser, ensureTraversable } from '../pg/server-user.js';
import { BIN, runCli, spawnCli, waitUntil, type CliProcess } from '../faults/cli-process.js';
import { faultTest } from '../test-support/faults.js';
import { agentPaths } from '../config/agent-paths.js';
import type { AgentStateFile } from './state-types.js';
import { loadConfig } from '../config/index.js';
import { processAlive } from '../pg/process-alive.js';
import { agentConfig, logLines, type AgentLogLine } from './test-agent.js';

let work: string;
let home: string;
let repoDir: string;
let configFile: string;
let stateFile: string;
let cluster: LocalCluster;
let agent: CliProcess;
let metricsPort: number;

function events(p: CliProcess = agent): AgentLogLine[] {
  return logLines(p);
}

function state(): AgentStateFile {
  return JSON.parse(readFileSync(stateFile, 'utf8')) as AgentStateFile;
}

function writeConfig(schedule: Record<string, string | boolean>): void {
  writeFileSync(configFile, agentConfig({ repoDir, stateDir: join(work, 'state'), metricsPort, cluster }, schedule));
}

function startAgent(extra: string[] = []): CliProcess {
  return spawnCli(['--config', configFile, 'agent', ...extra], { home });
}

async function snapshotIds(): Promise<string[]> {
  const r = await runCli(['--config', configFile, '--json', 'list'], { home });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const rows = JSON.parse(r.stdout) as { id: string }[] | { snapshots: { id: string }[] };
  return (Array.isArray(rows) ? rows : rows.snapshots).map((s) => s.id);
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pgkeep-agent-'));
  home = join(work, 'home');
  mkdirSync(home);
  repoDir = join(work, 'repo');
  mkdirSync(repoDir);
  ensureTraversable(repoDir);
  const repo = await newPosixRepo(repoDir, { chunkSize: 128 * 1024 });
  await repo.close();
  chownTreeToServerUser(repoDir);
  configFile = join(work, 'pgkeep.toml');
  metricsPort = await freePort();
  cluster = await LocalCluster.create({
    settings: {
      wal_level: 'replica',
      archive_mode: 'on',
      max_wal_senders: 5,
      max_replication_slots: 5,
      fsync: false,
      archive_command: `env -u PGKEEP_CONFIG ${process.execPath} ${BIN} --repo ${repoDir} --cluster main wal push %p`,
    },
    hba: ['local replication all trust'],
  });
  await cluster.start();
  await cluster.exec('CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 20000) g;');
  writeConfig({ backup_incremental: '*/5 * * * * *', stream: true, stream_slot: 'pgkeep_agent' });
  stateFile = agentPaths(loadConfig({ config: configFile }, { HOME: home }), repoDir).stateFile;
});

after(async () => {
  if (agent && !agent.exited()) {
    agent.proc.kill('SIGKILL');
    await agent.exit;
  }
  await cluster?.destroy();
  rmSync(work, { recursive: true, force: true });
});

test('a backup scheduled every 5 s runs on its time, and list shows the snapshot it made', { timeout: 120_000 }, async () => {
  agent = startAgent();
  await waitUntil(() => events().some((e) => e.event === 'job-end'), 'the first scheduled backup to end', 60_000, 100);
  const end = events().find((e) => e.event === 'job-end')!;
  assert.equal(end.result, 'ok', `${end.message}\n${agent.stderr()}`);
  const start = events().find((e) => e.event === 'job-start')!;
  const at = new Date(start.time);
  // On time: at a multiple of 5 s (croner fires within milliseconds; allow 1.5 s on a busy machine).
  assert.ok((at.getUTCSeconds() % 5) * 1000 + at.getUTCMilliseconds() < 1500, `started at ${start.time}`);
  const run = state().clusters.main!.jobs.backup_incremental!.lastRun!;
  assert.equal(run.result, 'ok');
  assert.equal(run.trigger, 'schedule');
  const id = /^snapshot (\S+)$/.exec(run.message)?.[1];
  assert.ok(id, `the run names its snapshot: ${run.message}`);
  assert.ok((await snapshotIds()).includes(id), `list shows ${id}`);
  assert.ok(Date.parse(state().clusters.main!.jobs.backup_incremental!.nextRunAt!) > Date.now() - 1000, 'the next run is recorded');
});

test("the agent runs the monitor: /metrics and `pgkeep status` show the scheduled job from the agent's own state file", {
  timeout: 60_000,
}, async () => {
  let text = '';
  await waitUntil(
    async () => {
      text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      return /pgkeep_job_last_success\{cluster="main",job="backup_incremental"\} 1/.test(text);
    },
    "the job's result on /metrics",
    30_000,
    200,
  );
  assert.match(text, /pgkeep_check_state\{cluster="main",check="archive"\} 0/);
  assert.ok(
    events().some((e) => e.event === 'check-changed'),
    'check states are logged',
  );
  // No [monitor] state_file: status finds the agent's state for this repository by itself.
  const r = await runCli(['--config', configFile, '--json', 'status'], { home });
  const s = JSON.parse(r.stdout) as { clusters: { cluster: string; jobs: Record<string, { result?: string }> }[] };
  assert.equal(s.clusters.find((c) => c.cluster === 'main')?.jobs.backup_incremental?.result, 'ok', r.stdout + r.stderr);
});

test('a second agent for the same repository is refused (LOCKED, exit 10)', { timeout: 60_000 }, async () => {
  const r = await runCli(['--config', configFile, 'agent'], { home, timeoutMs: 30_000 });
  assert.equal(r.code, 10, r.stdout + r.stderr);
  assert.match(r.stderr, /another pgkeep agent \(pid \d+.*already serves repository/);
  assert.ok(!agent.exited(), 'the first agent runs on');
});

test('SIGHUP reloads a changed schedule; a job never overlaps itself; a bad file keeps the old schedule', {
  timeout: 120_000,
}, async () => {
  writeConfig({ backup_incremental: '* * * * * *', stream: true, stream_slot: 'pgkeep_agent' });
  agent.proc.kill('SIGHUP');
  await waitUntil(() => events().some((e) => e.event === 'reloaded'), 'the reload', 20_000, 50);
  assert.equal(state().clusters.main!.jobs.backup_incremental!.schedule, '* * * * * *');
  // A backup takes more than a second: the ticks that come while one runs are skipped, reported.
  await waitUntil(
    () => events().filter((e) => e.event === 'job-skipped').length >= 2 && events().filter((e) => e.event === 'job-end').length >= 3,
    'skipped ticks and two more runs',
    60_000,
    100,
  );
  const runs: [number, number][] = [];
  let open: number | undefined;
  for (const e of events()) {
    if (e.event === 'job-start') {
      assert.equal(open, undefined, 'a run started while another ran');
      open = Date.parse(e.time);
    } else if (e.event === 'job-end') {
      runs.push([open!, Date.parse(e.time)]);
      open = undefined;
    }
  }
  assert.ok(state().clusters.main!.jobs.backup_incremental!.lastSkipAt, 'the skip is in the state');

  writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('"* * * * * *"', '"61 * * * *"'));
  agent.proc.kill('SIGHUP');
  await waitUntil(() => events().some((e) => e.event === 'reload-failed'), 'the failed reload', 20_000, 50);
  assert.match(
    events().find((e) => e.event === 'reload-failed')!.message,
    /invalid cron expression "61 \* \* \* \*".*previous one stays|previous one stays.*invalid cron expression/,
  );
  assert.equal(state().clusters.main!.jobs.backup_incremental!.schedule, '* * * * * *', 'the old schedule stays');
  assert.ok(!agent.exited());
});

faultTest('the wal stream child killed with -9 is restarted and streams again', async () => {
  await waitUntil(() => state().clusters.main!.stream?.lastProgressAt != null, 'the receiver to report progress', 60_000, 100);
  const first = state().clusters.main!.stream!;
  assert.equal(first.status, 'running');
  process.kill(first.pid!, 'SIGKILL');
  await waitUntil(
    () => {
      const s = state().clusters.main!.stream!;
      return s.status === 'running' && s.pid !== first.pid && s.restarts === first.restarts + 1;
    },
    'the receiver to be restarted',
    30_000,
    50,
  );
  const s = state().clusters.main!.stream!;
  assert.equal(s.lastExit?.signal, 'SIGKILL');
  assert.ok(
    events().some((e) => e.event === 'stream-exited'),
    'the exit is logged',
  );
  // The new receiver stores WAL: a segment switched to after the kill shows up as received and flushed.
  await cluster.exec("INSERT INTO t SELECT g, 'after-kill' FROM generate_series(20001, 30000) g");
  const [row] = await cluster.query<{ lsn: string }>('SELECT pg_switch_wal()::text AS lsn');
  const target = lsnValue(row!.lsn);
  await waitUntil(
    () => {
      const f = state().clusters.main!.stream!.flushedLsn;
      return f !== null && lsnValue(f) >= target;
    },
    `the restarted receiver to flush past ${row!.lsn}`,
    60_000,
    200,
  );
});

function lsnValue(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

test('SIGTERM stops the agent cleanly within its bound: exit 0, nothing left running, lock released', { timeout: 120_000 }, async () => {
  const t0 = Date.now();
  agent.proc.kill('SIGTERM');
  const r = await agent.exit;
  const seconds = (Date.now() - t0) / 1000;
  assert.equal(r.code, 0, r.stdout.slice(-2000) + r.stderr);
  assert.ok(seconds < 35, `stopped in ${seconds} s (bound 30 s)`);
  const s = state();
  assert.ok(s.agent.stoppedAt);
  const job = s.clusters.main!.jobs.backup_incremental!;
  assert.equal(job.running, null);
  assert.ok(['ok', 'interrupted'].includes(job.lastRun!.result), JSON.stringify(job.lastRun));
  assert.equal(s.clusters.main!.stream!.status, 'stopped');
  assert.ok(!existsSync(join(stateFile, '..', 'agent.lock')), 'the lock is released');
});

test('a run missed while no agent ran is reported at start and run once', { timeout: 120_000 }, async () => {
  // The schedule of the stopped agent, unchanged: its times that pass now are missed.
  writeConfig({ backup_incremental: '* * * * * *' });
  await new Promise((r) => setTimeout(r, 2500));
  agent = startAgent();
  await waitUntil(() => events().some((e) => e.event === 'job-start'), 'a run', 30_000, 50);
  const missed = events().find((e) => e.event === 'job-missed');
  assert.ok(missed, `missed run reported: ${agent.stdout()}`);
  assert.equal(events().find((e) => e.event === 'job-start')!.trigger, 'catch-up');
  assert.ok(state().clusters.main!.jobs.backup_incremental!.missed);
  agent.proc.kill('SIGTERM');
  assert.equal((await agent.exit).code, 0);
});

test('expire (repo gc) and backups scheduled at the same time wait for each other instead of failing LOCKED', {
  timeout: 120_000,
}, async () => {
  writeConfig({ backup_incremental: '*/4 * * * * *', expire: '*/4 * * * * *' });
  agent = startAgent();
  const ends = (job: string) => events().filter((e) => e.event === 'job-end' && e.job === job);
  await waitUntil(() => ends('expire').length >= 2 && ends('backup_incremental').length >= 2, 'two runs of each', 60_000, 100);
  agent.proc.kill('SIGTERM');
  assert.equal((await agent.exit).code, 0);
  for (const e of [...ends('expire'), ...ends('backup_incremental')]) {
    assert.ok(e.result === 'ok' || e.result === 'interrupted', `${e.job}: ${e.message}`);
  }
  assert.ok(
    events().some((e) => e.event === 'job-waiting'),
    'a wait was reported',
  );
});

faultTest('the agent killed with -9: its wal stream child stops by itself, and the next agent takes over lock and slot', async () => {
  writeConfig({ backup_incremental: '0 3 * * *', stream: true, stream_slot: 'pgkeep_agent' });
  agent = startAgent();
  await waitUntil(
    () => state().clusters.main!.stream?.status === 'running' && state().agent.pid === agent.proc.pid,
    'the receiver to run',
    30_000,
    50,
  );
  const orphan = state().clusters.main!.stream!.pid!;
  agent.proc.kill('SIGKILL');
  await agent.exit;
  await waitUntil(() => !processAlive(orphan), `the orphaned receiver (pid ${orphan}) to stop by itself`, 20_000, 100);
  agent = startAgent();
  await waitUntil(() => events().some((e) => e.event === 'stale-lock'), 'the stale lock to be taken over', 20_000, 50);
  const [row] = await cluster.query<{ lsn: string }>('SELECT pg_switch_wal()::text AS lsn');
  await waitUntil(
    () => {
      const f = state().clusters.main!.stream?.flushedLsn;
      return state().agent.pid === agent.proc.pid && f != null && lsnValue(f) >= lsnValue(row!.lsn);
    },
    "the new agent's receiver to stream through the slot",
    60_000,
    200,
  );
  assert.ok(!events().some((e) => e.event === 'stream-exited'), `the new receiver never failed: ${agent.stdout()}`);
  agent.proc.kill('SIGTERM');
  assert.equal((await agent.exit).code, 0);
});

test('--once runs each job once (the full backup rather than both kinds) and exits with the result', { timeout: 120_000 }, async () => {
  writeConfig({ backup_full: '0 2 * * 0', backup_incremental: '0 2 * * 1-6' });
  const before = await snapshotIds();
  const r = await runCli(['--config', configFile, 'agent', '--once'], { home, timeoutMs: 90_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const ends = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as AgentLogLine)
    .filter((e) => e.event === 'job-end');
  assert.deepEqual(
    ends.map((e) => [e.job, e.result]),
    [['backup_full', 'ok']],
  );
  const run = state().clusters.main!.jobs.backup_full!.lastRun!;
  assert.equal(run.trigger, 'once');
  const added = (await snapshotIds()).filter((id) => !before.includes(id));
  assert.deepEqual(added, [/^snapshot (\S+)$/.exec(run.message)![1]], 'list shows the one new snapshot');
});

test('a job still running after job_timeout is interrupted and fails, reported, and stores nothing', { timeout: 120_000 }, async () => {
  // pg_dump waits for a lock nobody releases: the job can only end through the agent's bound.
  const holder = spawn(
    pgToolPath(cluster.binDir, 'psql'),
    ['-X', '-q', '-d', cluster.connectionString(), '-c', 'BEGIN; LOCK TABLE t; SELECT pg_sleep(120);'],
    { stdio: 'ignore' },
  );
  try {
    await waitUntil(
      async () =>
        (await cluster.query("SELECT 1 FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 't'::regclass")).length > 0,
      'the lock',
      20_000,
      50,
    );
    writeConfig({ dump: '0 3 * * *' });
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('stop_timeout = "30s"', 'stop_timeout = "30s"\njob_timeout = "3s"'));
    const before = await snapshotIds();
    const t0 = Date.now();
    const r = await runCli(['--config', configFile, 'agent', '--once'], { home, timeoutMs: 60_000 });
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(r.code, 14, r.stdout + r.stderr);
    assert.ok(seconds < 40, `bounded: ${seconds} s`);
    const run = state().clusters.main!.jobs.dump!.lastRun!;
    assert.equal(run.result, 'failed');
    assert.match(run.message, /still running after \[agent\] job_timeout \(3s\)/);
    assert.deepEqual(
      (await snapshotIds()).filter((id) => !before.includes(id)),
      [],
      'no dump was stored',
    );

    // SIGTERM to `agent --once` interrupts the job in progress at once, not after it.
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('job_timeout = "3s"', 'job_timeout = "10m"'));
    const once = startAgent(['--once']);
    await waitUntil(() => events(once).some((e) => e.event === 'job-start'), 'the dump to start', 30_000, 50);
    const t1 = Date.now();
    once.proc.kill('SIGTERM');
    const end = await once.exit;
    assert.equal(end.code, 14, end.stdout + end.stderr);
    assert.ok(Date.now() - t1 < 15_000, `stopped in ${(Date.now() - t1) / 1000} s`);
    assert.equal(state().clusters.main!.jobs.dump!.lastRun!.result, 'interrupted');
  } finally {
    holder.kill('SIGKILL');
  }
});

test('a repository path that is no repository stops the agent at start (exit 6), not at its first job', { timeout: 60_000 }, async () => {
  const other = join(work, 'other.toml');
  writeFileSync(other, readFileSync(configFile, 'utf8').replace(JSON.stringify(repoDir), JSON.stringify(join(work, 'no-repo'))));
  const r = await runCli(['--config', other, 'agent'], { home, timeoutMs: 30_000 });
  assert.equal(r.code, 6, r.stdout + r.stderr);
  assert.match(r.stderr, /no-repo is not a pgkeep repository/);
});
