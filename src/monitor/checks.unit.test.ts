/** The health checks as pure functions of facts: each threshold, and the states around it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { monitorSettings } from '../config/monitor.js';
import { runChecks, worst } from './checks/index.js';
import { buildStatus } from './status.js';
import { parseAgentState } from './agent-state.js';
import type { ClusterFacts, CheckName, CheckState } from './types.js';

const m = monitorSettings({});
const NOW = new Date('2026-06-01T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000);

function facts(over: Partial<ClusterFacts> = {}, server: Partial<NonNullable<ClusterFacts['server']>> = {}): ClusterFacts {
  return {
    cluster: 'main',
    at: NOW,
    server: {
      inRecovery: false,
      dataDirectory: '/pgdata',
      archiveMode: 'on',
      archiveCommand: 'pgkeep wal push %p',
      archiver: {
        archivedCount: 10,
        lastArchivedWal: '000000010000000000000009',
        lastArchivedTime: ago(30),
        failedCount: 0,
        lastFailedWal: null,
        lastFailedTime: null,
      },
      currentWalFile: '00000001000000000000000A',
      segmentSize: 16 * 1024 * 1024,
      slots: [],
      ...server,
    },
    readyCount: 0,
    walSpace: { path: '/pgdata/pg_wal', freeBytes: 50, totalBytes: 100 },
    backups: [
      {
        id: 'b1',
        kind: 'physical',
        method: 'stream',
        startTime: ago(3600).toISOString(),
        stopTime: ago(3500).toISOString(),
        size: 1,
        storedBytes: 1,
        files: 1,
      },
    ],
    walCheck: {
      cluster: 'main',
      timelines: [],
      problems: [],
      damaged: [],
      damagedManifests: [],
      filesRead: 0,
      readData: false,
      ok: true,
      backups: [
        {
          id: 'b1',
          systemIdentifier: '1',
          timeline: 1,
          targetTimeline: 1,
          method: 'stream',
          standalone: false,
          walStart: '000000010000000000000002',
          walEnd: '000000010000000000000002',
          stopLsn: '0/2000100',
          stopTime: ago(3500).toISOString(),
          status: 'ok',
          from: '0/2000100',
          to: '0/A000000',
          lastSegment: '000000010000000000000009',
          gaps: [],
          message: 'recoverable',
        },
      ],
    },
    ...over,
  };
}

const stateOf = (f: ClusterFacts, check: CheckName): CheckState => runChecks(f, m).find((c) => c.check === check)!.state;

test('a healthy cluster is OK on every check', () => {
  const checks = runChecks(facts(), m);
  assert.deepEqual(
    checks.filter((c) => c.state !== 'OK'),
    [],
  );
  assert.equal(worst(checks.map((c) => c.state)), 'OK');
});

test('archive: failing now is CRITICAL; the backlog and its age warn by the thresholds', () => {
  const failing = { lastFailedWal: '00000001000000000000000A', lastFailedTime: ago(5), failedCount: 3 };
  assert.equal(stateOf(facts({}, { archiver: { ...facts().server!.archiver, ...failing } }), 'archive'), 'CRITICAL');
  // An old failure followed by a success is history, not a stall.
  assert.equal(stateOf(facts({}, { archiver: { ...facts().server!.archiver, ...failing, lastFailedTime: ago(60) } }), 'archive'), 'OK');
  assert.equal(stateOf(facts({ readyCount: 16 }), 'archive'), 'WARN');
  assert.equal(stateOf(facts({ readyCount: 128 }), 'archive'), 'CRITICAL');
  // 2 segments waiting, nothing archived for 20 minutes (limit 15m): stalled.
  assert.equal(
    stateOf(facts({ readyCount: 2 }, { archiver: { ...facts().server!.archiver, lastArchivedTime: ago(1200) } }), 'archive'),
    'WARN',
  );
  // Without the data directory, the backlog is counted from the WAL position: A is written, 3..9 archived -> 0..
  const far = facts({ readyCount: undefined }, { currentWalFile: '0000000100000000000000A0' });
  assert.equal(runChecks(far, m)[0]!.state, 'CRITICAL', runChecks(far, m)[0]!.reason);
  assert.equal(buildStatus(far, runChecks(far, m)).archive!.segments, 0xa0 - 0x09 - 1);
  assert.equal(stateOf(facts({}, { archiveCommand: '' }), 'archive'), 'CRITICAL');
  // Failures since the previous round, though archiving succeeded since: flaky, WARN (failed_count rising).
  const flaky = { ...facts().server!.archiver, failedCount: 5, lastFailedWal: '000000010000000000000008', lastFailedTime: ago(40) };
  assert.equal(stateOf(facts({ previousFailedCount: 3 }, { archiver: flaky }), 'archive'), 'WARN');
  assert.equal(stateOf(facts({ previousFailedCount: 5 }, { archiver: flaky }), 'archive'), 'OK');
  assert.equal(stateOf(facts({}, { archiveMode: 'off' }), 'archive'), 'WARN');
  assert.equal(stateOf(facts({}, { inRecovery: true }), 'archive'), 'OK');
  assert.equal(stateOf(facts({ server: undefined, serverError: 'down' }), 'archive'), 'UNKNOWN');
});

test('wal_space and replication slots by their thresholds', () => {
  assert.equal(stateOf(facts({ walSpace: { path: 'x', freeBytes: 15, totalBytes: 100 } }), 'wal_space'), 'WARN');
  assert.equal(stateOf(facts({ walSpace: { path: 'x', freeBytes: 5, totalBytes: 100 } }), 'wal_space'), 'CRITICAL');
  assert.equal(stateOf(facts({ walSpace: undefined, pgdataProblem: 'EACCES' }), 'wal_space'), 'UNKNOWN');
  const slot = { name: 's', type: 'physical' as const, active: false, walStatus: 'reserved', heldBytes: 2 * 1024 ** 3, safeWalSize: null };
  assert.equal(stateOf(facts({}, { slots: [slot] }), 'replication_slots'), 'WARN');
  assert.equal(stateOf(facts({}, { slots: [{ ...slot, heldBytes: 11 * 1024 ** 3 }] }), 'replication_slots'), 'CRITICAL');
  assert.equal(stateOf(facts({}, { slots: [{ ...slot, active: true }] }), 'replication_slots'), 'OK');
  assert.equal(stateOf(facts({}, { slots: [{ ...slot, walStatus: 'lost' }] }), 'replication_slots'), 'CRITICAL');
  assert.equal(stateOf(facts({}, { slots: [{ ...slot, heldBytes: 0, walStatus: 'unreserved' }] }), 'replication_slots'), 'CRITICAL');
});

test('repository, continuity, backup age and jobs', () => {
  assert.equal(stateOf(facts({ repoError: 'ENOENT', backups: undefined, walCheck: undefined }), 'repository'), 'CRITICAL');
  const gap = facts();
  gap.walCheck!.backups[0]!.status = 'gap';
  assert.equal(stateOf(gap, 'wal_continuity'), 'CRITICAL');
  // A backup that cannot be recovered is not a good backup.
  assert.equal(stateOf(gap, 'backup_age'), 'CRITICAL');
  const old = facts();
  old.backups![0]!.stopTime = ago(30 * 3600).toISOString();
  assert.equal(stateOf(old, 'backup_age'), 'WARN');
  old.backups![0]!.stopTime = ago(60 * 3600).toISOString();
  assert.equal(stateOf(old, 'backup_age'), 'CRITICAL');
  // An hourly backup job: a backup 58 minutes old is fine, one 2 hours old is late (1.5 periods), well before backup_max_age.
  const hourly = (stop: number) =>
    facts({
      backups: [{ ...facts().backups![0]!, stopTime: ago(stop).toISOString() }],
      agent: {
        jobs: { hourly: { kind: 'backup', cluster: 'main', lastRun: ago(600).toISOString(), nextRun: ago(600 - 3600).toISOString() } },
        streams: {},
      },
    });
  assert.equal(stateOf(hourly(3500), 'backup_age'), 'OK');
  assert.equal(stateOf(hourly(7200), 'backup_age'), 'WARN');
  assert.match(runChecks(hourly(7200), m).find((c) => c.check === 'backup_age')!.reason, /from the schedule of job hourly/);
  // The agent's own state.json shape (src/agent/state-types.ts); fields of the wrong type are left out.
  const agent = parseAgentState(
    JSON.stringify({
      version: 1,
      other: 1,
      clusters: {
        main: {
          jobs: {
            dump: {
              lastRun: { startedAt: 5, endedAt: '2026-01-01T01:00:00.000Z', result: 'failed', message: 'disk full' },
              nextRunAt: null,
            },
          },
          stream: null,
        },
      },
    }),
  );
  assert.deepEqual(agent.jobs['main/dump'], {
    lastRun: '2026-01-01T01:00:00.000Z',
    result: 'failed',
    error: 'disk full',
    cluster: 'main',
    kind: 'dump',
  });
  assert.equal(stateOf(facts({ agent }), 'jobs'), 'WARN');
  assert.equal(stateOf(facts({ agentError: 'bad JSON' }), 'jobs'), 'UNKNOWN');
});

test('thresholds: a CRITICAL milder than its WARN is a config error', () => {
  assert.throws(
    () => monitorSettings({ wal_free_warn: 5, wal_free_critical: 10 }, 'f.toml'),
    /CRITICAL threshold of \[monitor\] in f\.toml/,
  );
  assert.throws(
    () => monitorSettings({ slot_lag_warn: 'lots' }, 'f.toml'),
    /invalid size "lots" \(from monitor\.slot_lag_warn in f\.toml\)/,
  );
});

test('metrics: a series not reported again is removed, forget drops a cluster', async () => {
  const { MonitorMetrics } = await import('./metrics.js');
  const metrics = new MonitorMetrics();
  const f = facts({ agent: { jobs: { nightly: { kind: 'backup', result: 'ok', lastRun: ago(60).toISOString() } }, streams: {} } });
  metrics.update(buildStatus(f, runChecks(f, m)));
  assert.match(await metrics.text(), /pgkeep_job_last_success\{cluster="main",job="nightly"\} 1/);
  assert.match(await metrics.text(), /pgkeep_archive_lag_segments\{cluster="main"\} 0/);
  const down = facts({ server: undefined, serverError: 'down', readyCount: undefined });
  metrics.update(buildStatus(down, runChecks(down, m)));
  assert.doesNotMatch(await metrics.text(), /job="nightly"|pgkeep_archive_lag_segments\{/);
  assert.match(await metrics.text(), /pgkeep_check_state\{cluster="main",check="archive"\} 3/);
  metrics.forget('main');
  assert.doesNotMatch(await metrics.text(), /cluster="main"/);
});

test('window: a backup with a gap after it recovers up to the segment before the gap; an unrecoverable one opens none', () => {
  const f = facts();
  const b1 = f.walCheck!.backups[0]!;
  const gap = { from: '000000010000000000000006', to: '000000010000000000000006', count: 1 };
  f.walCheck!.backups = [{ ...b1, status: 'gap', to: '0/6000000', lastSegment: '000000010000000000000005', gaps: [gap] }];
  const s = buildStatus(f, runChecks(f, m));
  assert.deepEqual(s.window.oldest, { time: b1.stopTime, lsn: b1.from, backup: 'b1' });
  assert.deepEqual(s.window.newest, { lsn: '0/6000000', segment: '000000010000000000000005', time: null });
  f.walCheck!.backups = [{ ...b1, status: 'unrecoverable', to: undefined, lastSegment: undefined }];
  assert.deepEqual(buildStatus(f, runChecks(f, m)).window, { oldest: null, newest: null });
});
