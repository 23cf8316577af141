/** WAL content checks: page headers along a segment, .history and .backup text, as wal push and the checks use them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWalFileName } from '../wal-name.js';
import { backupHistoryProblems, timelineHistoryProblems } from '../history-file-check.js';
import { walContentProblem } from './content-check.js';
import { CRC32C_INIT, crc32cFinish, crc32cUpdate } from '../crc32c.js';

const SEG = 1024 * 1024;
const BLK = 8192;
const SYSID = 7301234567890123456n;

/** A 1 MiB segment as PostgreSQL writes it: a long header, then a short header on every page. */
function segment(segNo: bigint, tli = 1, pages = SEG / BLK): Buffer {
  const b = Buffer.alloc(SEG);
  const start = segNo * BigInt(SEG);
  for (let i = 0; i < pages; i++) {
    const off = i * BLK;
    b.writeUInt16LE(0xd110, off);
    b.writeUInt16LE(i === 0 ? 0x0002 : 0x0001, off + 2);
    b.writeUInt32LE(tli, off + 4);
    b.writeBigUInt64LE(start + BigInt(off), off + 8);
    if (i === 0) {
      b.writeBigUInt64LE(SYSID, 24);
      b.writeUInt32LE(SEG, 32);
      b.writeUInt32LE(BLK, 36);
    }
    b.fill(0x5a, off + 40, off + 200); // record data
  }
  return b;
}

const name = (n: string) => parseWalFileName(n);

test('segment: every page header is checked; a zero tail is fine, data after it or a bad header is not', () => {
  const f = name('000000010000000000000003');
  assert.equal(walContentProblem(f, segment(3n), SYSID.toString()), undefined);
  assert.equal(walContentProblem(f, segment(3n, 1, 40), SYSID.toString()), undefined, 'zero tail after the last page');
  assert.match(walContentProblem(f, segment(3n), '42')!, /system 7301234567890123456.*system 42/);
  assert.match(walContentProblem(name('000000010000000000000004'), segment(3n))!, /its name says/);

  for (const [offset, what] of [
    [5 * BLK + 9, /page at offset 40960 .*says/],
    [7 * BLK, /page magic/],
    [9 * BLK + 2, /page flags/],
    [11 * BLK + 9, /page at offset 90112 .*says/],
  ] as const) {
    const bad = segment(3n);
    bad[offset] = bad[offset]! ^ 0x10;
    assert.match(walContentProblem(f, bad)!, what, `flip at ${offset}`);
  }
  const flags = segment(3n);
  flags.writeUInt16LE(0x0009, 12 * BLK + 2); // a contrecord overwritten after a crash: valid
  assert.equal(walContentProblem(f, flags), undefined);
  flags.writeUInt16LE(0x0011, 12 * BLK + 2);
  assert.match(walContentProblem(f, flags)!, /unknown page flags 0x11/);
  const afterZero = segment(3n, 1, 40);
  afterZero[60 * BLK + 100] = 1;
  assert.match(walContentProblem(f, afterZero)!, /holds data after zero pages/);
  assert.match(walContentProblem(f, segment(3n).subarray(0, SEG - BLK))!, /has 1040384 bytes/);
  const newerTli = segment(3n, 1);
  newerTli.writeUInt32LE(2, 3 * BLK + 4);
  assert.match(walContentProblem(f, newerTli)!, /page timeline 2 is outside 1..1/);
  // On timeline 2, pages copied from timeline 1 before the switch are fine; going back is not.
  const onTwo = segment(3n, 1);
  for (let i = 10; i < SEG / BLK; i++) onTwo.writeUInt32LE(2, i * BLK + 4);
  assert.equal(walContentProblem(name('000000020000000000000003'), onTwo), undefined);
  onTwo.writeUInt32LE(1, 20 * BLK + 4);
  assert.match(walContentProblem(name('000000020000000000000003'), onTwo)!, /page timeline 1 is outside 2..2/);
});

test('.partial: the valid pages are checked, the stale rest is ignored', () => {
  const p = segment(3n, 1, 30);
  p.fill(0x77, 30 * BLK); // a recycled file's old bytes
  assert.equal(walContentProblem(name('000000010000000000000003.partial'), p), undefined);
  const bad = Buffer.from(p);
  bad[10] = bad[10]! ^ 0x01;
  assert.match(walContentProblem(name('000000010000000000000003.partial'), bad)!, /its name says/);
});

test(".history: PostgreSQL's format, parents increasing and below the file's timeline, switchpoints not going back", () => {
  const ok = '1\t0/3000000\tno recovery target specified\n\n# comment\n2\t0/5000A28\tat restore point "x"\n';
  assert.deepEqual(timelineHistoryProblems(ok, 3), []);
  assert.equal(walContentProblem(name('00000003.history'), Buffer.from(ok)), undefined);
  const bad: [string, number, RegExp][] = [
    ['', 2, /no entry/],
    ['hello world\n', 2, /line 1: invalid timeline|line 1: expected/],
    ['1\t0/30000G0\tx\n', 2, /invalid switchpoint/],
    ['1\t0/3000000\tx\n1\t0/4000000\ty\n', 3, /increasing order/],
    ['2\t0/3000000\tx\n', 2, /timeline 2, which is not below the file's timeline 2/],
    ['1\t0/5000000\tx\n2\t0/3000000\ty\n', 3, /switchpoint goes backwards/],
    ['1\t0/3000000\tx\0\n', 2, /NUL/],
  ];
  for (const [text, tli, re] of bad) assert.match(timelineHistoryProblems(text, tli).join('; '), re, JSON.stringify(text));
  assert.match(walContentProblem(name('00000002.history'), Buffer.from([0xff, 0xfe, 0x31]))!, /UTF-8/);
});

test('.backup: START names its own segment and offset, STOP is not before it', () => {
  const f = name('000000010000000000000003.00000028.backup');
  const text = (start: string, file: string, stop = '0/3000100') =>
    `START WAL LOCATION: ${start} (file ${file})\n` +
    `STOP WAL LOCATION: ${stop} (file 000000010000000000000003)\nCHECKPOINT LOCATION: 0/3000060\nBACKUP METHOD: streamed\n` +
    'BACKUP FROM: primary\nSTART TIME: 2026-12-05 03:00:00 UTC\nLABEL: x\nSTART TIMELINE: 1\n';
  assert.deepEqual(backupHistoryProblems(text('0/3000028', '000000010000000000000003'), f), []);
  assert.match(backupHistoryProblems(text('0/4000028', '000000010000000000000004'), f).join(), /starts in 000000010000000000000004/);
  assert.match(backupHistoryProblems(text('0/3000030', '000000010000000000000003'), f).join(), /does not match the offset/);
  assert.match(backupHistoryProblems(text('0/3000028', '000000010000000000000003', '0/3000000'), f).join(), /before START/);
  assert.match(backupHistoryProblems('garbage\n', f).join(), /no "START WAL LOCATION/);
});

/** Lay records (random bodies) along `seg` from the first page's header on, across pages as PostgreSQL does. */
function writeRecords(seg: Buffer, start: bigint, sizes: number[]): number[] {
  const starts: number[] = [];
  let pos = 40;
  let prev = 0n;
  for (const [i, size] of sizes.entries()) {
    if (pos % BLK === 0) pos += 24;
    const rec = Buffer.alloc(size);
    for (let k = 24; k < size; k++) rec[k] = (k * 31 + i * 7) & 0xff;
    rec.writeUInt32LE(size, 0);
    rec.writeBigUInt64LE(prev, 8);
    rec[17] = 10; // heap
    rec.writeUInt32LE(crc32cFinish(crc32cUpdate(crc32cUpdate(CRC32C_INIT, rec.subarray(24)), rec.subarray(0, 20))), 20);
    starts.push(pos);
    prev = start + BigInt(pos);
    let done = 0;
    while (done < size) {
      if (pos % BLK === 0) {
        seg.writeUInt16LE(seg.readUInt16LE(pos + 2) | 0x0001, pos + 2);
        seg.writeUInt32LE(size - done, pos + 16);
        pos += 24;
      }
      const n = Math.min(size - done, BLK - (pos % BLK));
      rec.copy(seg, pos, done, done + n);
      pos += n;
      done += n;
    }
    pos = (pos + 7) & ~7;
  }
  return starts;
}

test("records: every record's CRC-32C, across pages; records cut by the segment ends are not judged", () => {
  const f = name('000000010000000000000003');
  const start = 3n * BigInt(SEG);
  const seg = segment(3n);
  for (let off = 0; off < SEG; off += BLK) seg.fill(0, off + (off ? 24 : 40), off + BLK); // no filler: records only
  const starts = writeRecords(seg, start, [100, 5000, 20000, 64, 8192 - 24, 300]);
  assert.equal(walContentProblem(f, seg, undefined, { records: true }), undefined);
  assert.equal(walContentProblem(f, seg), undefined);
  for (const [i, at] of [
    [1, starts[1]! + 4000],
    [2, starts[2]! + 15000],
    [0, starts[0]! + 30],
    [3, starts[3]! + 21],
  ] as const) {
    const bad = Buffer.from(seg);
    bad[at] = bad[at]! ^ 0x01;
    assert.match(
      walContentProblem(f, bad, undefined, { records: true })!,
      new RegExp(`record ${i + 1} at 0/30.* fails its CRC-32C`),
      `record ${i + 1}`,
    );
    assert.equal(walContentProblem(f, bad), undefined, 'without records only the pages are checked');
  }
  // A .partial is not record-checked (what follows its end is not WAL).
  const partial = Buffer.from(seg);
  partial[starts[1]! + 4000] = partial[starts[1]! + 4000]! ^ 0x01;
  assert.equal(walContentProblem(name('000000010000000000000003.partial'), partial, undefined, { records: true }), undefined);
});
