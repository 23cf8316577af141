/** The recoverable window on a time axis: bands split at `wal check`'s gaps, each gap between its neighbours' archive times. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterStatus } from '../monitor/index.js';
import type { WalCheckReport } from '../wal/index.js';
import { timelineModel } from './timeline-model.js';
import type { SegmentTime } from './wal-times.js';

const SYS = '7000000000000000001';
const T0 = Date.parse('2026-06-01T10:00:00Z');
const seg = (n: number) => `0000000100000000000000${n.toString(16).toUpperCase().padStart(2, '0')}`;
const segments: SegmentTime[] = [2, 3, 4, 6, 7, 9].map((n) => ({ system: SYS, timeline: 1, name: seg(n), ms: T0 + n * 60_000 }));

const walCheck: WalCheckReport = {
  cluster: 'main',
  timelines: [
    {
      systemIdentifier: SYS,
      timeline: 1,
      first: seg(2),
      last: seg(9),
      segments: 6,
      partials: [],
      backupFiles: 0,
      historyFile: false,
      gaps: [
        { from: seg(5), to: seg(5), count: 1 },
        { from: seg(8), to: seg(8), count: 1 },
      ],
    },
  ],
  backups: [],
  problems: [],
  damagedManifests: [],
  damaged: [],
  filesRead: 0,
  readData: false,
  ok: false,
};

const status = {
  window: {
    oldest: { time: new Date(T0 + 150_000).toISOString(), lsn: '0/2000100', backup: 'b1' },
    newest: { lsn: '0/5000000', segment: seg(4), time: null },
  },
} as Pick<ClusterStatus, 'window'> as ClusterStatus;

test('bands are the runs of segments between gaps; each gap sits between the archive times of its neighbours', () => {
  const m = timelineModel(status, [], walCheck, segments, T0 + 3_600_000);
  assert.deepEqual(
    m.bands.map((b) => [b.first, b.last, b.segments, b.fromMs, b.toMs]),
    [
      [seg(2), seg(4), 3, T0 + 120_000, T0 + 240_000],
      [seg(6), seg(7), 2, T0 + 360_000, T0 + 420_000],
      [seg(9), seg(9), 1, T0 + 540_000, T0 + 540_000],
    ],
  );
  assert.deepEqual(
    m.gaps.map((g) => [g.from, g.count, g.fromMs, g.toMs]),
    [
      [seg(5), 1, T0 + 240_000, T0 + 360_000],
      [seg(8), 1, T0 + 420_000, T0 + 540_000],
    ],
  );
  // The newest recoverable moment: the archive time of its last segment, an upper bound.
  assert.deepEqual(m.newest, { ms: T0 + 240_000, lsn: '0/5000000', segment: seg(4), bound: true });
  assert.deepEqual(m.oldest, { ms: T0 + 150_000, backup: 'b1' });
  assert.ok(m.fromMs < T0 + 120_000 && m.toMs === T0 + 3_600_000);
});

test('no WAL and no backup: an empty axis ending now, nothing recoverable', () => {
  const m = timelineModel(
    { window: { oldest: null, newest: null } } as Pick<ClusterStatus, 'window'> as ClusterStatus,
    [],
    undefined,
    [],
    T0,
  );
  assert.deepEqual([m.bands, m.gaps, m.backups, m.oldest, m.newest], [[], [], [], null, null]);
  assert.ok(m.fromMs < m.toMs);
});
