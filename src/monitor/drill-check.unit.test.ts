/**
 * The drill checks from records as `pgkeep drill` writes them, read back from a real (posix)
 * repository the way the monitor gathers them: the newest failed drill is CRITICAL, an RTO above
 * [drill] max_rto WARNs, and no drill at all is no alert.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { newPosixRepo, tempDir } from '../repo/test-utils.js';
import type { Repository } from '../repo/index.js';
import { checkRepository, garbageCollect } from '../repo/index.js';
import { listDrillRecords, newestDrillRecord, writeDrillRecord, type DrillRecord } from '../holdings/drill-records.js';
import { drillCheck, drillRtoCheck } from './checks/drill.js';
import type { ClusterFacts } from './types.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
let repo: Repository;
const NOW = new Date('2026-06-01T12:00:00Z');

before(async () => {
  dir = await tempDir('pgkeep-drill-check-');
  repo = await newPosixRepo(join(dir.path, 'repo'));
});
after(async () => {
  await repo.close();
  await dir.remove();
});

function record(id: string, ok: boolean, rtoSeconds: number): DrillRecord {
  return {
    format: 1,
    id,
    cluster: 'main',
    startedAt: '2026-06-01T10:00:00.000Z',
    finishedAt: '2026-06-01T10:05:00.000Z',
    ok,
    ...(ok ? {} : { failedPhase: 'wal' as const, error: 'the archive has a gap after X: Y is missing', errorCode: 'NOT_FOUND' }),
    backupId: '20260601T000000Z-abcdef',
    target: { kind: 'latest' },
    rtoSeconds,
    phases: [
      { name: 'choose', seconds: 1, ok: true },
      { name: 'restore', seconds: rtoSeconds - 1, ok },
    ],
    checks: [],
    host: 'h',
    pgkeepVersion: 't',
  };
}

async function check(maxRtoMs?: number) {
  const f: ClusterFacts = { cluster: 'main', at: NOW, drill: { newest: await newestDrillRecord(repo, 'main'), maxRtoMs } };
  return { drill: drillCheck(f), rto: drillRtoCheck(f) };
}

test('no drill recorded: no alert', async () => {
  const c = await check(60_000);
  assert.equal(c.drill.state, 'OK');
  assert.equal(c.rto.state, 'OK');
});

test('the newest drill failed: CRITICAL naming it and its phase; a later passed one clears it; an RTO above max_rto warns', async () => {
  await writeDrillRecord(repo, record('20260601T090000Z-000001', true, 30));
  await writeDrillRecord(repo, record('20260601T100000Z-000002', false, 12));
  let c = await check(60_000);
  assert.equal(c.drill.state, 'CRITICAL');
  assert.match(c.drill.reason, /20260601T100000Z-000002 .* failed in phase wal: the archive has a gap/);
  assert.match(c.drill.fix ?? '', /drill show 20260601T100000Z-000002/);

  await writeDrillRecord(repo, record('20260601T110000Z-000003', true, 120));
  c = await check(60_000);
  assert.equal(c.drill.state, 'OK');
  assert.equal(c.rto.state, 'WARN');
  assert.match(c.rto.reason, /took 2m, above \[drill\] max_rto 60s \(slowest phase: restore/);
  assert.equal((await check(600_000)).rto.state, 'OK');
  assert.equal((await check()).rto.state, 'OK', 'no max_rto: no limit');
});

test('repo gc keeps the drill records and repo check does not flag them', async () => {
  const before = (await listDrillRecords(repo, 'main')).map((r) => r.id);
  assert.ok(before.length >= 3);
  await garbageCollect(repo, {});
  assert.deepEqual(
    (await listDrillRecords(repo, 'main')).map((r) => r.id),
    before,
  );
  const report = await checkRepository(repo);
  assert.equal(report.ok, true, JSON.stringify(report.damaged));
  assert.deepEqual(report.damaged, []);
});
