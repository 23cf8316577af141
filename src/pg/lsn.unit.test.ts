import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgkeepError } from '../errors.js';
import {
  MAX_LSN,
  compareLsn,
  formatLsn,
  isLsnText,
  isSegmentStart,
  lsnAdd,
  lsnDiff,
  lsnFromParts,
  maxLsn,
  minLsn,
  parseLsn,
  parseWalSegmentSizeSetting,
  segmentBeforeLsn,
  segmentFloor,
  segmentOfLsn,
  segmentOffset,
  segmentStartLsn,
  segmentsPerXLogId,
  checkWalSegmentSize,
} from './lsn.js';

const MiB = 1024 * 1024;

test('parseLsn and formatLsn round-trip PostgreSQL text', () => {
  assert.equal(parseLsn('16/B374D848'), 0x16b374d848n);
  assert.equal(parseLsn('0/0'), 0n);
  assert.equal(parseLsn('FFFFFFFF/FFFFFFFF'), MAX_LSN);
  assert.equal(parseLsn('0/1000028'), 0x1000028n);
  assert.equal(parseLsn(' a/b '), 0xa0000000bn);
  for (const s of ['16/B374D848', '0/0', 'FFFFFFFF/FFFFFFFF', '1/0', '0/1']) assert.equal(formatLsn(parseLsn(s)), s);
  assert.equal(formatLsn(0xa0000000bn), 'A/B');
  assert.equal(formatLsn(lsnFromParts(0xffffffff, 0x80000000)), 'FFFFFFFF/80000000');
});

test('parseLsn rejects malformed input with USAGE and the expected form', () => {
  for (const bad of ['', '16', '16/', '/1', '1/2/3', 'G/0', '123456789/0', '0/123456789', '-1/0', '0x1/0', '1 / 2']) {
    assert.throws(
      () => parseLsn(bad),
      (e: unknown) => {
        assert.ok(e instanceof PgkeepError);
        assert.equal(e.code, 'USAGE');
        assert.match(e.hint ?? '', /16\/B374D848/);
        return true;
      },
      bad,
    );
    assert.equal(isLsnText(bad), false, bad);
  }
});

test('formatLsn refuses values outside 64 bits', () => {
  assert.throws(() => formatLsn(-1n), PgkeepError);
  assert.throws(() => formatLsn(MAX_LSN + 1n), PgkeepError);
  assert.throws(() => lsnAdd(MAX_LSN, 1), PgkeepError);
});

test('arithmetic and comparison', () => {
  const a = parseLsn('1/FFFFFFFF');
  assert.equal(formatLsn(lsnAdd(a, 1)), '2/0');
  assert.equal(formatLsn(lsnAdd(a, 1n)), '2/0');
  assert.equal(lsnDiff(parseLsn('2/0'), a), 1n);
  assert.equal(lsnDiff(a, parseLsn('2/0')), -1n);
  assert.equal(compareLsn(1n, 2n), -1);
  assert.equal(compareLsn(2n, 2n), 0);
  assert.equal(compareLsn(3n, 2n), 1);
  assert.deepEqual([5n, 1n, 3n].sort(compareLsn), [1n, 3n, 5n]);
  assert.equal(maxLsn(1n, 9n, 4n), 9n);
  assert.equal(minLsn(1n, 9n, 4n), 1n);
});

test('segment math for 16 MiB segments, including boundaries', () => {
  assert.equal(segmentsPerXLogId(16 * MiB), 0x100n);
  assert.equal(segmentsPerXLogId(MiB), 0x1000n);
  assert.equal(segmentsPerXLogId(1024 * MiB), 4n);
  const s = 16 * MiB;
  assert.equal(segmentOfLsn(parseLsn('0/FFFFFF'), s), 0n);
  assert.equal(segmentOfLsn(parseLsn('0/1000000'), s), 1n);
  assert.equal(segmentOfLsn(parseLsn('1/0'), s), 0x100n);
  assert.equal(segmentOfLsn(parseLsn('16/B374D848'), s), 0x16b3n);
  assert.equal(segmentBeforeLsn(parseLsn('0/1000000'), s), 0n);
  assert.equal(segmentBeforeLsn(parseLsn('0/1000001'), s), 1n);
  assert.throws(() => segmentBeforeLsn(0n, s), PgkeepError);
  assert.equal(formatLsn(segmentStartLsn(0x16b3n, s)), '16/B3000000');
  assert.equal(segmentOffset(parseLsn('16/B374D848'), s), 0x74d848);
  assert.equal(isSegmentStart(parseLsn('16/B3000000'), s), true);
  assert.equal(isSegmentStart(parseLsn('16/B3000001'), s), false);
  assert.equal(formatLsn(segmentFloor(parseLsn('16/B374D848'), s)), '16/B3000000');
  assert.equal(formatLsn(segmentFloor(parseLsn('16/B374D848'), 64 * MiB)), '16/B0000000');
});

test('segment sizes: validation and SHOW text', () => {
  assert.equal(parseWalSegmentSizeSetting('16MB'), 16 * MiB);
  assert.equal(parseWalSegmentSizeSetting('1GB'), 1024 * MiB);
  assert.equal(parseWalSegmentSizeSetting('1024kB'), MiB);
  assert.equal(parseWalSegmentSizeSetting('16777216'), 16 * MiB);
  for (const bad of ['15MB', '2GB', '512kB', 'lots', '']) assert.throws(() => parseWalSegmentSizeSetting(bad), PgkeepError, bad);
  for (const bad of [0, 3 * MiB, 2048 * MiB, 1.5]) assert.throws(() => checkWalSegmentSize(bad), PgkeepError);
});
