/** [cluster.NAME.schedule] into the agent's plan: what each job runs, and what is refused. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../config/index.js';
import { loadConfig } from '../config/load.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import { agentPlan } from './plan.js';

function plan(toml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-plan-'));
  try {
    const file = join(dir, 'pgkeep.toml');
    writeFileSync(file, `[repo]\npath = "/r"\n${toml}`);
    return agentPlan(loadConfig({ config: file }, { HOME: dir }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function refused(toml: string, code: string, message: RegExp): void {
  assert.throws(
    () => plan(toml),
    (e: unknown) => e instanceof PgkeepError && e.code === code && message.test(e.message),
  );
}

test('each schedule key becomes its job, with the commands it runs', () => {
  const p = plan(`[cluster.main.schedule]
backup_full = "0 2 * * 0"
backup_incremental = "0 2 * * 1-6"
backup_method = "local"
dump = "30 3 * * *"
expire = "0 5 * * *"
verify = "0 6 * * 6"
drill = "0 7 * * 6"
stream = true
stream_slot = "pgkeep"
[cluster.other.schedule]
timezone = "Europe/Berlin"
backup_incremental = "*/5 * * * * *"`);
  const steps = Object.fromEntries(p.jobs.filter((j) => j.cluster === 'main').map((j) => [j.kind, j.steps]));
  assert.deepEqual(steps, {
    backup_full: [['backup', '--method', 'local', '--checksum-all']],
    backup_incremental: [['backup', '--method', 'local']],
    dump: [['dump', '--all']],
    expire: [['expire'], ['repo', 'gc']],
    verify: [['verify', 'latest']],
    drill: [['drill']],
  });
  assert.notEqual(p.jobs.find((j) => j.kind === 'drill')!.group, p.jobs.find((j) => j.kind === 'verify')!.group);
  assert.equal(p.jobs.find((j) => j.kind === 'backup_full')!.group, p.jobs.find((j) => j.kind === 'backup_incremental')!.group);
  assert.deepEqual(p.streams, [{ cluster: 'main', slot: 'pgkeep' }]);
  assert.equal(p.jobs.find((j) => j.cluster === 'other')!.timezone, 'Europe/Berlin');
  assert.equal(p.catchUp, true);
  assert.equal(p.stopTimeoutMs, 60_000);
});

test('bad schedules are refused at start with the key and a stable code', () => {
  refused(
    '[cluster.main.schedule]\nbackup_full = "0 25 * * *"',
    'CONFIG',
    /cluster\.main\.schedule\.backup_full .*invalid cron expression "0 25 \* \* \*"/,
  );
  refused('[cluster.main.schedule]\ndrill = "0 61 * * *"', 'CONFIG', /cluster\.main\.schedule\.drill .*invalid cron expression/);
  refused(
    '[cluster.main.schedule]\nbackup_full = "0 2 * * *"\nbackup_method = "cold"',
    'CONFIG',
    /backup_method.*"cold" cannot be scheduled/,
  );
  refused('[cluster.main.schedule]\nbackup_full = "0 2 * * *"\ntimezone = "Mars/Olympus"', 'CONFIG', /unknown timezone "Mars\/Olympus"/);
  refused('[cluster.main.schedule]\nstream_slot = "s"', 'CONFIG', /stream_slot.*stream is not/);
  refused('[cluster.main]\nconnection = "x"', 'CONFIG', /nothing for the agent to do/);
  refused('[agent]\nstop_timeout = "1h"\n[cluster.main.schedule]\nstream = true', 'CONFIG', /agent\.stop_timeout/);
  assert.throws(
    () => parseConfigText('[cluster.main.schedule]\nbackup = "0 2 * * *"', 'f.toml'),
    /unknown key "cluster\.main\.schedule\.backup"/,
  );
  assert.throws(() => parseConfigText('[cluster.main.schedule]\nstream = "yes"', 'f.toml'), /must be a boolean/);
});
