/**
 * `pgkeep agent` schedules restore drills: a drill every 2 s for a cluster whose repository holds
 * no backup yet runs, fails (phase choose), is recorded in the repository, fails the job, and the
 * monitor's `drill` check turns CRITICAL naming the drill — through the real CLI, no PostgreSQL
 * needed (the server checks are UNKNOWN: nothing listens at the configured socket).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { newPosixRepo } from '../repo/test-utils.js';
import { runCli, spawnCli, waitUntil, type CliProcess } from '../faults/cli-process.js';
import { agentPaths } from '../config/agent-paths.js';
import { loadConfig } from '../config/index.js';
import type { AgentStateFile } from './state-types.js';
import type { DrillRecord } from '../holdings/drill-records.js';

let work: string;
let home: string;
let configFile: string;
let stateFile: string;
let agent: CliProcess | undefined;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pgkeep-agent-drill-'));
  home = join(work, 'home');
  mkdirSync(home);
  const repoDir = join(work, 'repo');
  await (await newPosixRepo(repoDir)).close();
  configFile = join(work, 'pgkeep.toml');
  writeFileSync(
    configFile,
    `[repo]
path = ${JSON.stringify(repoDir)}
[agent]
state_dir = ${JSON.stringify(join(work, 'state'))}
stop_timeout = "20s"
[monitor]
interval = "1s"
[drill]
max_rto = "1h"
sandbox_dir = ${JSON.stringify(work)}
[cluster.main]
connection = "host=${join(work, 'no-server')} port=5432 user=postgres connect_timeout=2"
[cluster.main.schedule]
drill = "*/2 * * * * *"
`,
  );
  stateFile = agentPaths(loadConfig({ config: configFile }, { HOME: home }), repoDir).stateFile;
});

after(async () => {
  if (agent && !agent.exited()) {
    agent.proc.kill('SIGKILL');
    await agent.exit;
  }
  rmSync(work, { recursive: true, force: true });
});

test('a scheduled drill runs, its failure is recorded in the repository, and the monitor alerts on it', { timeout: 120_000 }, async () => {
  agent = spawnCli(['--config', configFile, 'agent'], { home });
  const lastRun = () => {
    try {
      return (JSON.parse(readFileSync(stateFile, 'utf8')) as AgentStateFile).clusters.main?.jobs.drill?.lastRun;
    } catch {
      return undefined;
    }
  };
  await waitUntil(() => Boolean(lastRun()), 'the first scheduled drill to end', 60_000, 100);
  agent.proc.kill('SIGTERM');
  const stopped = await agent.exit;
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.equal(lastRun()!.result, 'failed', JSON.stringify(lastRun()));

  const list = await runCli(['--config', configFile, '--json', 'drill', 'list'], { home });
  assert.equal(list.code, 0, list.stderr);
  const records = JSON.parse(list.stdout) as DrillRecord[];
  assert.ok(records.length >= 1);
  const rec = records.at(-1)!;
  assert.equal(rec.ok, false);
  assert.equal(rec.failedPhase, 'choose');
  assert.match(rec.error ?? '', /no physical backups/);

  const status = await runCli(['--config', configFile, '--json', 'status'], { home });
  const s = JSON.parse(status.stdout) as { clusters: { cluster: string; checks: { check: string; state: string; reason: string }[] }[] };
  const checks = s.clusters.find((c) => c.cluster === 'main')!.checks;
  const drill = checks.find((c) => c.check === 'drill')!;
  assert.equal(drill.state, 'CRITICAL', JSON.stringify(checks));
  assert.match(drill.reason, new RegExp(`${rec.id} .*failed in phase choose`));
  assert.equal(checks.find((c) => c.check === 'drill_rto')!.state, 'OK', 'no passed drill to measure');
  assert.equal(status.code, 2, 'CRITICAL: exit 2 like a Nagios plugin');
});
