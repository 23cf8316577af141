import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgkeepError } from '../errors.js';
import { parseLsn, formatLsn } from './lsn.js';
import {
  backupHistoryFileName,
  formatTimelineHistory,
  historyFileName,
  isArchivableWalName,
  isBackupHistoryFileName,
  isHistoryFileName,
  isPartialWalFileName,
  isWalFileName,
  nextWalFileName,
  parseTimelineHistory,
  parseWalFileName,
  prevWalFileName,
  segmentNumberOf,
  timelineOfLsn,
  walFileName,
  walFileNameForLsn,
  walFileStartLsn,
} from './wal-name.js';

const MiB = 1024 * 1024;

test('segment names from timeline and LSN', () => {
  assert.equal(walFileNameForLsn(1, parseLsn('0/1000028')), '000000010000000000000001');
  assert.equal(walFileNameForLsn(1, parseLsn('16/B374D848')), '0000000100000016000000B3');
  assert.equal(walFileNameForLsn(0x1a, parseLsn('0/FFFFFFFF')), '0000001A00000000000000FF');
  assert.equal(walFileNameForLsn(2, parseLsn('1/0')), '000000020000000100000000');
  // 1 GiB segments: 4 per xlogid
  assert.equal(walFileNameForLsn(1, parseLsn('16/B374D848'), 1024 * MiB), '000000010000001600000002');
  // 1 MiB segments: 0x1000 per xlogid
  assert.equal(walFileNameForLsn(1, parseLsn('16/B374D848'), MiB), '000000010000001600000B37');
  assert.equal(walFileName(1, 0n), '000000010000000000000000');
  assert.throws(() => walFileName(0, 1n), PgkeepError);
});

test('next and previous segment roll over the log id', () => {
  assert.equal(nextWalFileName('0000000100000000000000FE'), '0000000100000000000000FF');
  assert.equal(nextWalFileName('0000000100000000000000FF'), '000000010000000100000000');
  assert.equal(prevWalFileName('000000010000000100000000'), '0000000100000000000000FF');
  assert.equal(nextWalFileName('000000010000000000000003', 1024 * MiB), '000000010000000100000000');
  assert.equal(nextWalFileName('000000010000000000000FFF', MiB), '000000010000000100000000');
  assert.equal(nextWalFileName('000000030000000A00000010.partial'), '000000030000000A00000011');
  assert.throws(() => prevWalFileName('000000010000000000000000'), PgkeepError);
  // seg beyond the range for the segment size
  assert.throws(() => segmentNumberOf('000000010000000000000100'), PgkeepError);
  assert.equal(segmentNumberOf('000000010000000000000100', MiB), 0x100n);
});

test('parse names of every kind', () => {
  assert.deepEqual(parseWalFileName('0000000200000016000000B3'), {
    kind: 'segment',
    name: '0000000200000016000000B3',
    timeline: 2,
    log: 0x16,
    seg: 0xb3,
  });
  assert.deepEqual(parseWalFileName('0000000200000016000000B3.partial'), {
    kind: 'partial',
    name: '0000000200000016000000B3.partial',
    timeline: 2,
    log: 0x16,
    seg: 0xb3,
  });
  assert.deepEqual(parseWalFileName('0000000A.history'), { kind: 'history', name: '0000000A.history', timeline: 10 });
  const b = parseWalFileName('000000010000000000000002.00000028.backup');
  assert.deepEqual(b, { kind: 'backup', name: '000000010000000000000002.00000028.backup', timeline: 1, log: 0, seg: 2, offset: 0x28 });
  assert.equal(formatLsn(walFileStartLsn(b)), '0/2000028');
  assert.equal(formatLsn(walFileStartLsn('0000000200000016000000B3')), '16/B3000000');
  assert.equal(backupHistoryFileName(1, parseLsn('0/2000028')), '000000010000000000000002.00000028.backup');
  assert.equal(historyFileName(2), '00000002.history');
  for (const bad of [
    '',
    '0000000100000000000000',
    '00000001000000000000000g',
    '000000010000000000000001.gz',
    '0000000100000000000000001',
    '000000000000000000000001',
    'abcdefab.history',
    '00000001.history.x',
    '0000000100000000000000ab',
  ]) {
    assert.throws(() => parseWalFileName(bad), PgkeepError, bad);
  }
  assert.equal(isWalFileName('000000010000000000000001'), true);
  assert.equal(isWalFileName('000000010000000000000001.partial'), false);
  assert.equal(isPartialWalFileName('000000010000000000000001.partial'), true);
  assert.equal(isHistoryFileName('00000002.history'), true);
  assert.equal(isBackupHistoryFileName('000000010000000000000002.00000028.backup'), true);
  assert.equal(isArchivableWalName('00000002.history'), true);
  assert.equal(isArchivableWalName('archive_status'), false);
});

test('timeline history files', () => {
  const text = '1\t0/3000148\tno recovery target specified\n\n# comment\n2\t1/A0000000\tat restore point "x"\n';
  const h = parseTimelineHistory(Buffer.from(text));
  assert.deepEqual(h, [
    { parentTimeline: 1, switchpoint: parseLsn('0/3000148'), reason: 'no recovery target specified' },
    { parentTimeline: 2, switchpoint: parseLsn('1/A0000000'), reason: 'at restore point "x"' },
  ]);
  assert.deepEqual(parseTimelineHistory(formatTimelineHistory(h)), h);
  assert.deepEqual(parseTimelineHistory(''), []);
  assert.deepEqual(parseTimelineHistory('1\t0/10'), [{ parentTimeline: 1, switchpoint: 16n, reason: '' }]);
  assert.equal(timelineOfLsn(h, 3, parseLsn('0/1000000')), 1);
  assert.equal(timelineOfLsn(h, 3, parseLsn('0/3000148')), 2);
  assert.equal(timelineOfLsn(h, 3, parseLsn('1/A0000000')), 3);
  for (const bad of ['x\t0/1\tr', '1\tzz\tr', '2\t0/1\ta\n1\t0/2\tb', '0\t0/1\tr']) {
    assert.throws(
      () => parseTimelineHistory(bad),
      (e: unknown) => e instanceof PgkeepError && e.code === 'DATA_INTEGRITY',
      bad,
    );
  }
});
