import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgkeepError } from '../../errors.js';
import { parseLsn } from '../../pg/lsn.js';
import { parseWalFileName, parseTimelineHistory } from '../../pg/wal-name.js';
import { chooseStartPosition, lastArchivedPosition, resumeOnChain, type ServerChain } from './position.js';
import { PartialSchedule } from './partial.js';
import { backoffDelay, isRetryable } from './backoff.js';

const SEG = 16 * 1024 * 1024;
const seg = (n: number) => BigInt(n) * BigInt(SEG);
const files = (...names: string[]) => names.map((n) => parseWalFileName(n));
const tl1: ServerChain = { timeline: 1, history: [] };
// timeline 2 began at 0/5800000 (inside segment 5)
const tl2: ServerChain = { timeline: 2, history: parseTimelineHistory('1\t0/5800000\tno recovery target specified\n') };

test('lastArchivedPosition: newest complete segment on the server path', () => {
  assert.equal(lastArchivedPosition([], tl1, SEG), undefined);
  assert.equal(
    lastArchivedPosition(files('000000010000000000000003', '000000010000000000000004', '000000010000000000000005.partial'), tl1, SEG),
    seg(5),
  );
  // timeline 1 past its switchpoint (segment 5, 6) does not count on timeline 2's path; 2's segment 5 does
  assert.equal(
    lastArchivedPosition(files('000000010000000000000004', '000000010000000000000005', '000000010000000000000006'), tl2, SEG),
    seg(5),
  );
  assert.equal(lastArchivedPosition(files('000000010000000000000004', '000000020000000000000005'), tl2, SEG), seg(6));
  // a branch the server does not know (timeline 3) is ignored; history and backup files too
  assert.equal(
    lastArchivedPosition(files('000000030000000000000009', '00000002.history', '000000010000000000000002.00000028.backup'), tl2, SEG),
    undefined,
  );
});

test('chooseStartPosition: archive, then slot, then server', () => {
  const serverLsn = parseLsn('0/9123456');
  assert.deepEqual(chooseStartPosition({ chain: tl1, segSize: SEG, serverLsn }), { lsn: seg(9), timeline: 1, source: 'server' });
  assert.deepEqual(chooseStartPosition({ chain: tl1, segSize: SEG, serverLsn, archivedEnd: seg(4) }), {
    lsn: seg(4),
    timeline: 1,
    source: 'repository',
  });
  // slot older than the archive: the archive wins
  assert.deepEqual(
    chooseStartPosition({ chain: tl1, segSize: SEG, serverLsn, archivedEnd: seg(4), slotRestartLsn: parseLsn('0/2000060') }),
    { lsn: seg(4), timeline: 1, source: 'repository' },
  );
  // slot newer than the archive: the slot wins and the gap is reported
  assert.deepEqual(
    chooseStartPosition({ chain: tl1, segSize: SEG, serverLsn, archivedEnd: seg(4), slotRestartLsn: parseLsn('0/7000060') }),
    { lsn: seg(7), timeline: 1, source: 'slot', gapFrom: seg(4) },
  );
  assert.deepEqual(chooseStartPosition({ chain: tl1, segSize: SEG, serverLsn, slotRestartLsn: null }), {
    lsn: seg(9),
    timeline: 1,
    source: 'server',
  });
  // a position before the switchpoint streams the old timeline
  assert.deepEqual(chooseStartPosition({ chain: tl2, segSize: SEG, serverLsn, archivedEnd: seg(5) }), {
    lsn: seg(5),
    timeline: 1,
    source: 'repository',
  });
  assert.deepEqual(chooseStartPosition({ chain: tl2, segSize: SEG, serverLsn, archivedEnd: seg(6) }), {
    lsn: seg(6),
    timeline: 2,
    source: 'repository',
  });
});

test('resumeOnChain: continue, or go back to the switchpoint when the server branched off earlier', () => {
  assert.deepEqual(resumeOnChain(seg(5), 1, tl1, SEG), { lsn: seg(5), timeline: 1, source: 'resume' });
  assert.deepEqual(resumeOnChain(seg(5), 1, tl2, SEG), { lsn: seg(5), timeline: 1, source: 'resume' });
  // we were at segment 7 of timeline 1, but timeline 1 ended in segment 5 on this server
  assert.deepEqual(resumeOnChain(seg(7), 1, tl2, SEG), { lsn: seg(5), timeline: 1, source: 'resume' });
  assert.deepEqual(resumeOnChain(seg(7), 2, tl2, SEG), { lsn: seg(7), timeline: 2, source: 'resume' });
  assert.throws(
    () => resumeOnChain(seg(7), 3, tl2, SEG),
    (e: unknown) => e instanceof PgkeepError && e.code === 'CONFLICT',
  );
});

test('PartialSchedule: by time or bytes, only with something new', () => {
  const s = new PartialSchedule({ intervalMs: 10_000, bytes: 1000 }, 0);
  s.reset(seg(3), 0);
  assert.equal(s.due(seg(3), 50_000), false);
  assert.equal(s.due(seg(3) + 10n, 5_000), false);
  assert.equal(s.msUntilDue(seg(3) + 10n, 4_000), 6_000);
  assert.equal(s.due(seg(3) + 10n, 10_000), true);
  assert.equal(s.due(seg(3) + 1000n, 1), true);
  s.uploaded(seg(3) + 10n, 10_000);
  assert.equal(s.uploadedPosition, seg(3) + 10n);
  assert.equal(s.due(seg(3) + 10n, 99_000), false);
  assert.equal(s.msUntilDue(seg(3) + 10n, 99_000), Infinity);
});

test('backoff doubles up to the cap; only transient failures are retried', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 20].map((a) => backoffDelay(a)),
    [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
  );
  assert.equal(backoffDelay(2, { initialMs: 100, maxMs: 250 }), 250);
  assert.equal(isRetryable(new PgkeepError('CONNECTION', 'x')), true);
  assert.equal(isRetryable(new PgkeepError('REPOSITORY', 'x')), true);
  assert.equal(isRetryable(new PgkeepError('DATA_INTEGRITY', 'x')), false);
  assert.equal(isRetryable(new PgkeepError('NOT_FOUND', 'x')), false);
  assert.equal(isRetryable(new Error('x')), false);
});
