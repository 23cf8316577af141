/**
 * startMonitor on its own, without PostgreSQL: a server that is not there (its checks UNKNOWN), a
 * real posix repository, a webhook sink. A change is notified once, a failing channel never stops
 * the rounds, reload switches clusters and thresholds, stop ends every timer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import { newPosixRepo } from '../repo/test-utils.js';
import { MonitorMetrics, startMonitor, type MonitorEvent } from './index.js';
import { httpSink } from './test-sinks.js';

const until = async (cond: () => boolean, ms: number, what: string) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** A temporary directory with an empty posix repository and a webhook sink; `write` puts a config there (clusters unreachable). */
async function scene(webhooks: string) {
  const work = mkdtempSync(join(tmpdir(), 'pgkeep-monitor-loop-'));
  const hooks = await httpSink();
  const repo = await newPosixRepo(join(work, 'repo'));
  await repo.close();
  const file = join(work, 'pgkeep.toml');
  const write = (clusters: string[]) =>
    writeFileSync(
      file,
      `[repo]\npath = "${join(work, 'repo')}"\n` +
        clusters.map((c) => `[cluster.${c}]\nconnection = "host=${work} port=1 connect_timeout=2"\n`).join('') +
        `[monitor]\ninterval = "100ms"\n[notify]\nwebhook = "${webhooks.replace('SINK', hooks.url)}"\nretries = 0\ntimeout = "1s"\n`,
    );
  const cleanup = async () => {
    await hooks.close();
    rmSync(work, { recursive: true, force: true });
  };
  return { work, hooks, file, write, cleanup };
}

test('rounds repeat, changes are notified once, failing channels are logged, reload and stop work', async () => {
  const { hooks, file, write, cleanup } = await scene('SINK/ok http://127.0.0.1:1/refused');
  try {
    write(['a']);
    const events: MonitorEvent[] = [];
    const warnings: string[] = [];
    const monitor = startMonitor({
      config: loadConfig({ config: file }, {}),
      metrics: new MonitorMetrics(),
      log: { info: () => {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
      onEvent: (e) => events.push(e),
    });
    const rounds = (c: string) => events.filter((e) => e.type === 'round' && e.status.cluster === c).length;
    await until(() => rounds('a') >= 3, 20_000, 'three rounds of a');
    // archive, wal_space, replication_slots UNKNOWN and backup_age CRITICAL: notified once each, not every round.
    const changes = events.filter((e) => e.type === 'change');
    assert.deepEqual(changes.map((e) => e.type === 'change' && `${e.change.check}:${e.change.from}->${e.change.to}`).sort(), [
      'archive:null->UNKNOWN',
      'backup_age:null->CRITICAL',
      'replication_slots:null->UNKNOWN',
      'wal_space:null->UNKNOWN',
    ]);
    await until(() => hooks.received.length >= 4, 10_000, 'four webhooks');
    await until(
      () => warnings.filter((w) => /notification by webhook http:\/\/127\.0\.0\.1:1 failed/.test(w)).length >= 4,
      10_000,
      'the refused channel logged',
    );

    write(['b']);
    monitor.reload(loadConfig({ config: file }, {}));
    const before = rounds('a');
    await until(() => rounds('b') >= 2, 20_000, 'rounds of b after reload');
    assert.ok(rounds('a') <= before + 1, 'a is no longer monitored after reload');
    await monitor.stop();
    const after = events.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(events.length, after, 'no round after stop');
  } finally {
    await cleanup();
  }
});

test('with a memory file, a restarted loop repeats no alert and notifies what recovered while it was down', async () => {
  const { work, hooks, file, write, cleanup } = await scene('SINK/ok');
  try {
    write(['a']);
    const memoryFile = join(work, 'monitor-memory.json');
    // Before the restart: the jobs check warned, the backups were missing, the server was down.
    writeFileSync(
      memoryFile,
      JSON.stringify({
        a: { jobs: 'WARN', backup_age: 'CRITICAL', archive: 'UNKNOWN', wal_space: 'UNKNOWN', replication_slots: 'UNKNOWN' },
      }),
    );
    const events: MonitorEvent[] = [];
    const monitor = startMonitor({
      config: loadConfig({ config: file }, {}),
      metrics: new MonitorMetrics(),
      memoryFile,
      log: { info: () => {}, warn: () => {}, error: () => {} },
      onEvent: (e) => events.push(e),
    });
    await until(() => events.filter((e) => e.type === 'round').length >= 3, 20_000, 'three rounds');
    await monitor.stop();
    const changes = events.flatMap((e) => (e.type === 'change' ? [`${e.change.check}:${e.change.from}->${e.change.to}`] : []));
    assert.deepEqual(changes, ['jobs:WARN->OK']);
    assert.equal(hooks.received.length, 1);
    assert.equal(hooks.received[0]!.body.check, 'jobs');
    assert.equal(JSON.parse(readFileSync(memoryFile, 'utf8')).a.jobs, 'OK');
  } finally {
    await cleanup();
  }
});
