// The archive's reach without a server: gaps after the reachable WAL (one timeline and across a
// promotion), which WAL a restore uses, and the check that recovery replayed what was planned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgkeepError } from '../errors.js';
import type { PhysicalBackupMeta } from '../holdings/physical-meta.js';
import { walFileName, parseWalFileName } from '../pg/wal-name.js';
import { segmentRun, type ArchiveFacts } from './pitr/archive.js';
import { describeGap, findGap } from './pitr/archive-gap.js';
import { archiveReachesPastBackup, describeWal } from './pitr/wal-used.js';
import { checkRecoveryReachedPlan } from './pitr/check-end.js';
import type { PitrPlan, RecoveryEnd } from './pitr/types.js';

const SEG = 16 * 1024 * 1024;
const name = (tli: number, s: number) => walFileName(tli, BigInt(s), SEG);

/** Archive facts holding segments `[timeline, number]`, with timeline 2 branching off 1 at segment 6 when asked. */
function facts(segments: [number, number][], branch = false): ArchiveFacts {
  const f: ArchiveFacts = { cluster: 'c', systemIdentifier: '1', segmentSize: SEG, segments: new Map(), histories: new Map() };
  for (const [tli, s] of segments) {
    let m = f.segments.get(tli);
    if (!m) f.segments.set(tli, (m = new Map()));
    const n = name(tli, s);
    m.set(BigInt(s), { object: `wal/c/1/${n.slice(0, 16)}/${n}`, key: n, file: parseWalFileName(n), size: SEG });
  }
  if (branch) f.histories.set(2, [{ parentTimeline: 1, switchpoint: 6n * BigInt(SEG) + 0x100n, reason: 'promoted' }]);
  return f;
}

function meta(over: Partial<PhysicalBackupMeta> = {}): PhysicalBackupMeta {
  return {
    method: 'stream',
    label: 'b',
    standalone: false,
    systemIdentifier: '1',
    serverVersion: '15.0',
    serverVersionNum: 150000,
    timeline: 1,
    startLsn: '0/2000028',
    stopLsn: '0/2000100',
    startTime: '2026-01-01T00:00:00Z',
    stopTime: '2026-01-01T00:00:01Z',
    walSegmentSize: SEG,
    walStart: name(1, 2),
    walEnd: name(1, 2),
    tablespaces: [],
    dataChecksums: true,
    serverManifest: true,
    ...over,
  };
}

test('a gap after the reachable WAL: its bounds and the segments beyond it; none when the archive ends without one', () => {
  const f = facts([
    [1, 2],
    [1, 3],
    [1, 4],
    [1, 7],
    [1, 8],
    [1, 9],
  ]);
  const g = findGap(f, segmentRun(f, meta(), 1));
  assert.deepEqual(g, {
    after: name(1, 4),
    missingFrom: name(1, 5),
    missingTo: name(1, 6),
    missing: 2,
    resumesAt: name(1, 7),
    newest: name(1, 9),
    unreachable: 3,
  });
  assert.equal(
    describeGap(g!),
    `the archive has a gap after ${name(1, 4)}: ${name(1, 5)} .. ${name(1, 6)} (2 segments) are missing, ` +
      `so the 3 archived segments after it, ${name(1, 7)} .. ${name(1, 9)}, cannot be reached`,
  );
  const whole = facts([
    [1, 2],
    [1, 3],
    [1, 4],
  ]);
  assert.equal(findGap(whole, segmentRun(whole, meta(), 1)), undefined);
});

test('gaps follow the timeline path: the old timeline after the branch point does not count, the new one does', () => {
  // Timeline 2 starts in segment 6; timeline 1 went on to segment 9 (not on 2's path).
  const f = facts(
    [
      [1, 2],
      [1, 3],
      [1, 4],
      [1, 5],
      [1, 7],
      [1, 8],
      [1, 9],
      [2, 6],
      [2, 7],
    ],
    true,
  );
  assert.equal(findGap(f, segmentRun(f, meta(), 2)), undefined, 'segments 7..9 of timeline 1 are off the path');
  const gappy = facts(
    [
      [1, 2],
      [1, 3],
      [1, 4],
      [1, 5],
      [2, 7],
      [2, 8],
    ],
    true,
  );
  const g = findGap(gappy, segmentRun(gappy, meta(), 2));
  assert.equal(g?.after, name(1, 5));
  assert.equal(g?.missingFrom, name(2, 6), 'the switch segment is read from the new timeline');
  assert.equal(g?.newest, name(2, 8));
});

test("which WAL: a standalone backup's own, then the archive's; a cold one's checkpoint segment; nothing archived", () => {
  const standalone = meta({ standalone: true, walStart: name(1, 2), walEnd: name(1, 3) });
  const f = facts([
    [1, 3],
    [1, 4],
    [1, 5],
  ]);
  const run = segmentRun(f, standalone, 1);
  const reach = {
    timeline: 1,
    firstSegment: name(1, 2),
    lastSegment: name(1, 5),
    lastRecordLsn: '0/5000F00',
    endLsn: '0/6000000',
    segmentsRead: 1,
  };
  const w = describeWal(f, standalone, run, reach, undefined);
  assert.deepEqual(w, {
    fromBackup: { first: name(1, 2), last: name(1, 3) },
    fromArchive: { timeline: 1, first: name(1, 3), last: name(1, 5) },
    upTo: { lsn: '0/5000F00', segment: name(1, 5), what: 'record' },
  });
  assert.equal(archiveReachesPastBackup(w, standalone), true);

  const cold = meta({ method: 'cold', standalone: true, walStart: '', walEnd: '', startLsn: '0/4000028', stopLsn: '0/4000028' });
  const none = facts([
    [1, 1],
    [1, 2],
  ]);
  const own = describeWal(none, cold, segmentRun(none, cold, 1), undefined, undefined);
  assert.deepEqual(own, {
    fromBackup: { first: name(1, 4), last: name(1, 4) },
    upTo: { lsn: '0/4000028', segment: name(1, 4), what: 'backup-end' },
  });
  assert.equal(archiveReachesPastBackup(own, cold), false, 'only older segments archived: nothing after the checkpoint');
  const later = facts([[1, 4]]);
  assert.equal(
    archiveReachesPastBackup(describeWal(later, cold, segmentRun(later, cold, 1), undefined, undefined), cold),
    true,
    "the checkpoint's segment archived: the server went on writing after the cold backup",
  );
});

test('after --start, a latest-point recovery that promoted before the planned last record fails with DATA_INTEGRITY', () => {
  const plan = { wal: { upTo: { lsn: '0/5000F00', segment: name(1, 5), what: 'record' } } } as unknown as PitrPlan;
  const end = (replayLsn: string): RecoveryEnd => ({ state: 'promoted', replayLsn, seconds: 1 });
  checkRecoveryReachedPlan(plan, end('0/5000F38'), '/d', '/d/log');
  checkRecoveryReachedPlan(plan, end('0/7000000'), '/d', '/d/log');
  assert.throws(
    () => checkRecoveryReachedPlan(plan, end('0/4FFFFF0'), '/d', '/d/log'),
    (e: unknown) =>
      e instanceof PgkeepError && e.code === 'DATA_INTEGRITY' && /ended at 0\/4FFFFF0 and promoted, before the end/.test(e.message),
  );
  checkRecoveryReachedPlan({ ...plan, target: { kind: 'lsn', value: '0/1' } }, end('0/1000000'), '/d', '/d/log');
  checkRecoveryReachedPlan(plan, { state: 'promoted', redoDoneAt: '0/5000F00', seconds: 1 }, '/d', '/d/log');
});
