import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWalObjectName, walObjectName } from '../holdings/wal-layout.js';
import { readSegmentHeader, systemIdFromPgControl } from '../pg/wal/identify.js';
import { targetTimeline, timelineOfSegment, timelinePath } from '../pg/wal/timelines.js';
import { parseLsn } from '../pg/lsn.js';
import { parseTimelineHistory } from '../pg/wal-name.js';

const SEG = 16 * 1024 * 1024;

test('object names: segments grouped by timeline+log, history files at the top, round trip', () => {
  assert.equal(walObjectName('main', '7301', '00000001000000A2000000FF'), 'wal/main/7301/00000001000000A2/00000001000000A2000000FF');
  assert.equal(walObjectName('main', '7301', '00000002.history'), 'wal/main/7301/00000002.history');
  assert.equal(
    walObjectName('main', '7301', '000000010000000000000003.00000028.backup'),
    'wal/main/7301/0000000100000000/000000010000000000000003.00000028.backup',
  );
  assert.equal(
    walObjectName('main', '7301', '000000010000000000000003.partial'),
    'wal/main/7301/0000000100000000/000000010000000000000003.partial',
  );
  for (const n of ['00000001000000A2000000FF', '00000002.history', '000000010000000000000003.partial']) {
    const ref = parseWalObjectName(walObjectName('c-1', '42', n))!;
    assert.deepEqual([ref.cluster, ref.systemId, ref.file.name], ['c-1', '42', n]);
  }
  assert.equal(parseWalObjectName('wal/main/7301/0000000200000000/000000010000000000000003'), undefined, 'wrong directory');
  assert.equal(parseWalObjectName('wal/main/abc/00000002.history'), undefined);
  assert.equal(parseWalObjectName('snapshots/main/x'), undefined);
  assert.throws(() => walObjectName('main', '7301', 'RECOVERYXLOG'), /not a WAL file name/);
});

function header(sysid: bigint, pageaddr: bigint, opts: { info?: number; magic?: number; segSize?: number } = {}): Buffer {
  const b = Buffer.alloc(8192);
  b.writeUInt16LE(opts.magic ?? 0xd110, 0);
  b.writeUInt16LE(opts.info ?? 0x0002, 2);
  b.writeUInt32LE(1, 4);
  b.writeBigUInt64LE(pageaddr, 8);
  b.writeBigUInt64LE(sysid, 24);
  b.writeUInt32LE(opts.segSize ?? SEG, 32);
  b.writeUInt32LE(8192, 36);
  return b;
}

test('segment header: system identifier, segment size and page address from the long page header', () => {
  const h = readSegmentHeader(header(7301234567890123456n, 0x3000000n));
  assert.equal(h.systemIdentifier, '7301234567890123456');
  assert.equal(h.segmentSize, SEG);
  assert.equal(h.pageAddress, 0x3000000n);
  assert.throws(() => readSegmentHeader(Buffer.alloc(20)), /only 20 bytes/);
  assert.throws(() => readSegmentHeader(header(1n, 0n, { info: 0 })), /no long header/);
  assert.throws(() => readSegmentHeader(header(1n, 0n, { magic: 0x1234 })), /unknown page magic/);
  assert.throws(() => readSegmentHeader(header(1n, 0n, { segSize: 12345 })), /implausible segment size/);
  const control = Buffer.alloc(16);
  control.writeBigUInt64LE(18446744073709551615n, 0);
  assert.equal(systemIdFromPgControl(control), '18446744073709551615');
});

test('timelines: the path to the target and which timeline holds each segment', () => {
  const h3 = parseTimelineHistory('1\t0/3000000\tno recovery target specified\n2\t0/5800000\tbefore 2024-01-01\n');
  const path = timelinePath(3, h3);
  assert.deepEqual(
    path.map((s) => s.timeline),
    [1, 2, 3],
  );
  // Segment 2 on timeline 1; segment 3 holds the first switchpoint: read from timeline 2.
  assert.equal(timelineOfSegment(path, 2n, SEG), 1);
  assert.equal(timelineOfSegment(path, 3n, SEG), 2);
  assert.equal(timelineOfSegment(path, 4n, SEG), 2);
  assert.equal(timelineOfSegment(path, 5n, SEG), 3);
  assert.equal(timelineOfSegment(path, 9n, SEG), 3);

  const histories = new Map([
    [2, parseTimelineHistory('1\t0/3000000\tx\n')],
    [3, h3],
    [4, parseTimelineHistory('1\t0/3000000\tx\n2\t0/4000000\ty\n')],
  ]);
  // A backup on timeline 1 before the first switch follows the newest descendant (4 branches off 2 earlier than 3).
  assert.equal(targetTimeline(1, parseLsn('0/2000028'), histories), 4);
  // On timeline 2 after 0/4000000, only timeline 3 still passes through it.
  assert.equal(targetTimeline(2, parseLsn('0/4800000'), histories), 3);
  // On timeline 1 after its end: nothing descends from that position.
  assert.equal(targetTimeline(1, parseLsn('0/3800000'), histories), 1);
});
