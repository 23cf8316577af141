// Point-in-time recovery without a server: target times, flags and settings, and the WAL record scanner on synthetic segments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgkeepError } from '../errors.js';
import { parsePitrFlags, parseTargetTime, parseRecoveryLog, targetSettings, WalRecordScanner, type WalEvent } from './index.js';
import { PG_EPOCH_MICROS } from '../pg/timestamp.js';

function usage(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof PgkeepError && e.code === 'USAGE' && message.test(e.message));
}

test('target times: ISO 8601 and PostgreSQL forms, normalised to UTC with microseconds', () => {
  assert.equal(parseTargetTime('2026-01-02 03:04:05.123456+02').text, '2026-01-02 01:04:05.123456+00');
  assert.equal(parseTargetTime('2026-01-02T03:04:05Z').text, '2026-01-02 03:04:05+00');
  assert.equal(parseTargetTime('2026-01-02T03:04:05.5-05:30').iso, '2026-01-02T08:34:05.5Z');
  assert.equal(parseTargetTime('2026-01-02 03:04:05 UTC').text, '2026-01-02 03:04:05+00');
  assert.equal(parseTargetTime('2026-01-02 03:04:05+0100').text, '2026-01-02 02:04:05+00');
  assert.equal(parseTargetTime('2026-01-02 UTC').text, '2026-01-02 00:00:00+00', 'a date alone: its midnight');
  assert.equal(parseTargetTime('2026-03-01 00:00:00Z').micros, BigInt(Date.UTC(2026, 2, 1)) * 1000n);
  usage(() => parseTargetTime('2026-02-30 10:00'), /has no day 30/);
  usage(() => parseTargetTime('2026-13-01'), /month 13/);
  usage(() => parseTargetTime('2026-01-02 24:00:00'), /hours run/);
  usage(() => parseTargetTime('yesterday'), /cannot read the target time/);
  usage(() => parseTargetTime('2026-01-02 10:00 Europe/Paris'), /cannot read/);
});

test('a time without zone is read in the local zone of this process (TZ), DST included', () => {
  const old = process.env.TZ;
  try {
    process.env.TZ = 'America/New_York';
    const summer = parseTargetTime('2026-07-01 12:00:00');
    assert.equal(summer.text, '2026-07-01 16:00:00+00');
    assert.equal(summer.zone, 'local (UTC-04:00)');
    assert.equal(parseTargetTime('2026-01-15 12:00:00').text, '2026-01-15 17:00:00+00');
  } finally {
    if (old === undefined) delete process.env.TZ;
    else process.env.TZ = old;
  }
});

/** Run `fn` with TZ set (Node reads TZ again when it is assigned). */
function inZone(tz: string, fn: () => void): void {
  const old = process.env.TZ;
  try {
    process.env.TZ = tz;
    fn();
  } finally {
    if (old === undefined) delete process.env.TZ;
    else process.env.TZ = old;
  }
}

function usageWithHint(fn: () => unknown, message: RegExp, hint: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof PgkeepError && e.code === 'USAGE' && message.test(e.message) && hint.test(e.hint ?? ''));
}

test('a TZ that cannot be read is refused, naming it, instead of silently reading the time in UTC', () => {
  for (const tz of ['Mars/Base', 'CET-1CEST', '/usr/share/zoneinfo/Europe/Paris']) {
    inZone(tz, () => {
      usageWithHint(
        () => parseTargetTime('2026-07-01 12:00:00'),
        new RegExp(`has no zone, and TZ=${tz.replace(/[/]/g, '\\/')} is not a time zone`),
        /IANA zone name/,
      );
      assert.equal(parseTargetTime('2026-07-01 12:00:00+02').text, '2026-07-01 10:00:00+00', 'a time with its offset does not need TZ');
    });
  }
  inZone(':Europe/Paris', () => assert.equal(parseTargetTime('2026-07-01 12:00:00').text, '2026-07-01 10:00:00+00'));
  inZone('UTC', () => assert.equal(parseTargetTime('2026-07-01 12:00:00').text, '2026-07-01 12:00:00+00'));
});

test('a local time the clocks skipped or repeated (DST) is refused, with the readings spelled out; the hours around it are read', () => {
  inZone('Europe/Paris', () => {
    // 2026-03-29: 02:00 CET became 03:00 CEST; 2026-10-25: 03:00 CEST became 02:00 CET.
    usageWithHint(
      () => parseTargetTime('2026-03-29 02:30:00'),
      /"2026-03-29 02:30:00" does not exist in Europe\/Paris: the clocks skipped it \(UTC\+01:00 became UTC\+02:00\)/,
      /"2026-03-29 02:30:00\+01:00" \(read in the old offset\) or "2026-03-29 02:30:00\+02:00"/,
    );
    usageWithHint(
      () => parseTargetTime('2026-10-25 02:30:00'),
      /"2026-10-25 02:30:00" happened twice in Europe\/Paris/,
      /"2026-10-25 02:30:00\+02:00" \(the first time\) or "2026-10-25 02:30:00\+01:00" \(the second time\)/,
    );
    assert.equal(parseTargetTime('2026-03-29 01:59:59').text, '2026-03-29 00:59:59+00');
    assert.equal(parseTargetTime('2026-03-29 03:00:00').text, '2026-03-29 01:00:00+00');
    assert.equal(parseTargetTime('2026-10-25 01:59:59').text, '2026-10-24 23:59:59+00');
    assert.equal(parseTargetTime('2026-10-25 03:00:00').text, '2026-10-25 02:00:00+00');
    // The hints' own forms are accepted as they are written.
    assert.equal(parseTargetTime('2026-10-25 02:30:00+01:00').text, '2026-10-25 01:30:00+00');
  });
});

test('flags: one target, action and --exclusive only where they mean something, settings as PostgreSQL reads them', () => {
  assert.equal(parsePitrFlags({}), undefined);
  usage(() => parsePitrFlags({ targetTime: '2026-01-01', targetXid: '5' }), /give one recovery target, not --target-time and --target-xid/);
  usage(() => parsePitrFlags({ targetAction: 'pause' }), /needs a recovery target/);
  usage(() => parsePitrFlags({ targetName: 'x', exclusive: true }), /--exclusive applies/);
  usage(() => parsePitrFlags({ target: 'now' }), /only "immediate"/);
  usage(() => parsePitrFlags({ targetXid: '2' }), /invalid transaction id/);
  usage(() => parsePitrFlags({ targetLsn: '12' }), /invalid LSN/);
  usage(() => parsePitrFlags({ targetTimeline: 'newest' }), /invalid --target-timeline/);
  usage(() => parsePitrFlags({ targetName: 'x'.repeat(64) }), /invalid restore point name/);
  usage(() => parsePitrFlags({ targetTime: '2026-01-01', targetAction: 'stop' }), /invalid --target-action/);

  const xid = parsePitrFlags({ targetXid: '4294967999', exclusive: true, targetAction: 'pause' })!;
  assert.deepEqual(targetSettings(xid, xid.timeline!), {
    recovery_target_xid: '4294967999',
    recovery_target_inclusive: 'off',
    recovery_target_action: 'pause',
    recovery_target_timeline: 'latest',
  });
  const time = parsePitrFlags({ targetTime: '2026-01-02T03:04:05+01:00', targetTimeline: '2' })!;
  assert.deepEqual(targetSettings(time, time.timeline!), {
    recovery_target_time: '2026-01-02 02:04:05+00',
    recovery_target_inclusive: 'on',
    recovery_target_action: 'promote',
    recovery_target_timeline: '2',
  });
  const imm = parsePitrFlags({ target: 'immediate', targetAction: 'shutdown' })!;
  assert.deepEqual(targetSettings(imm, 'current'), {
    recovery_target: 'immediate',
    recovery_target_action: 'shutdown',
    recovery_target_timeline: 'current',
  });
  const onlyTimeline = parsePitrFlags({ targetTimeline: 'latest' })!;
  assert.deepEqual(targetSettings(onlyTimeline, 'latest'), { recovery_target_timeline: 'latest' });
});

// --- a synthetic WAL segment: 1 MiB, 8 kB pages, records laid out the way PostgreSQL writes them ---
const SEG = 1 << 20;
const PAGE = 8192;

function rec(rmid: number, info: number, xid: number, main: Buffer): Buffer {
  const hdr = Buffer.alloc(24);
  const total = 24 + (main.length < 256 ? 2 : 5) + main.length;
  hdr.writeUInt32LE(total, 0);
  hdr.writeUInt32LE(xid, 4);
  hdr[16] = info;
  hdr[17] = rmid;
  const len = main.length < 256 ? Buffer.from([255, main.length]) : Buffer.concat([Buffer.from([254]), u32(main.length)]);
  return Buffer.concat([hdr, len, main]);
}
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const ts = (unixMicros: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(unixMicros - PG_EPOCH_MICROS);
  return b;
};
const commit = (xid: number, t: bigint) => rec(1, 0x00, xid, ts(t));
const abort = (xid: number, t: bigint) => rec(1, 0x20, xid, ts(t));
const restorePoint = (name: string, t: bigint) => {
  const n = Buffer.alloc(64);
  n.write(name);
  return rec(0, 0x70, 0, Buffer.concat([ts(t), n]));
};
const heap = (size: number) => rec(10, 0, 700, Buffer.alloc(size, 7));

function segment(records: Buffer[], start: bigint): { data: Buffer; starts: bigint[] } {
  const data = Buffer.alloc(SEG);
  const starts: bigint[] = [];
  const header = (off: number, cont: boolean, rem: number): number => {
    const first = off === 0;
    data.writeUInt16LE(0xd110, off);
    data.writeUInt16LE((first ? 2 : 0) | (cont ? 1 : 0), off + 2);
    data.writeUInt32LE(1, off + 4);
    data.writeBigUInt64LE(start + BigInt(off), off + 8);
    data.writeUInt32LE(rem, off + 16);
    if (first) {
      data.writeBigUInt64LE(7n, off + 24);
      data.writeUInt32LE(SEG, off + 32);
      data.writeUInt32LE(PAGE, off + 36);
    }
    return off + (first ? 40 : 24);
  };
  let pos = header(0, false, 0);
  for (const r of records) {
    starts.push(start + BigInt(pos));
    let done = 0;
    while (done < r.length) {
      const pageEnd = (Math.floor(pos / PAGE) + 1) * PAGE;
      const n = Math.min(r.length - done, pageEnd - pos);
      r.copy(data, pos, done, done + n);
      done += n;
      pos += n;
      if (pos === pageEnd) pos = header(pos, done < r.length, r.length - done);
    }
    pos = (pos + 7) & ~7;
    if (pos % PAGE === 0) pos = header(pos, false, 0);
  }
  return { data, starts };
}

test('WAL scanner: commits, aborts and restore points with their LSN and time, across page boundaries', () => {
  const t0 = BigInt(Date.UTC(2026, 0, 2, 3, 4, 5)) * 1000n + 123456n;
  const records = [
    ...Array.from({ length: 40 }, () => heap(190)), // ~9 kB: the next records cross into the second page
    commit(1000, t0),
    heap(8000), // spans a whole page boundary
    restorePoint('before_upgrade', t0 + 1n),
    abort(1001, t0 + 2n),
    heap(20000), // spans several pages
    commit(1002, t0 + 3n),
  ];
  const start = 5n * BigInt(SEG);
  const { data, starts } = segment(records, start);
  const events: WalEvent[] = [];
  const s = new WalRecordScanner((e) => events.push(e));
  s.segment(data, start);
  assert.equal(s.records, records.length);
  assert.equal(s.lastRecord, starts[starts.length - 1]);
  const brief = events.map((e) => (e.kind === 'restore-point' ? [e.kind, e.name, e.lsn, e.time] : [e.kind, e.xid, e.lsn, e.time]));
  assert.deepEqual(brief, [
    ['commit', 1000, starts[40], t0],
    ['restore-point', 'before_upgrade', starts[42], t0 + 1n],
    ['abort', 1001, starts[43], t0 + 2n],
    ['commit', 1002, starts[45], t0 + 3n],
  ]);
  // A scanner fed a segment that does not follow the previous one starts afresh; a page with a wrong address ends the data.
  const broken = Buffer.from(data);
  broken.writeBigUInt64LE(0n, PAGE * 2 + 8);
  const partial: WalEvent[] = [];
  new WalRecordScanner((e) => partial.push(e)).segment(broken, start);
  assert.ok(partial.length < events.length && partial.every((e, i) => e.lsn === events[i]!.lsn));
});

test('the server log tells how recovery ended', () => {
  const log = [
    '2026-01-02 03:04:05.000 UTC [10] LOG:  restored log file "000000010000000000000003" from archive',
    '2026-01-02 03:04:05.100 UTC [10] LOG:  recovery stopping before commit of transaction 745, time 2026-01-02 03:04:01.5+00',
    '2026-01-02 03:04:05.100 UTC [10] LOG:  redo done at 0/3000148 system usage: CPU: user: 0.00 s',
    '2026-01-02 03:04:05.100 UTC [10] LOG:  last completed transaction was at log time 2026-01-02 03:03:59.1+00',
    '2026-01-02 03:04:05.200 UTC [10] LOG:  selected new timeline ID: 2',
  ].join('\n');
  assert.deepEqual(parseRecoveryLog(log), {
    shutdownAtTarget: false,
    fatal: [],
    stoppedAt: 'recovery stopping before commit of transaction 745, time 2026-01-02 03:04:01.5+00',
    redoDoneAt: '0/3000148',
    lastTransactionTime: '2026-01-02 03:03:59.1+00',
    newTimeline: 2,
  });
  const fatal = parseRecoveryLog('2026-01-02 03:04:05 UTC [10] FATAL:  recovery ended before configured recovery target was reached\n');
  assert.deepEqual(fatal.fatal, ['recovery ended before configured recovery target was reached']);
  assert.equal(parseRecoveryLog('LOG:  shutdown at recovery target').shutdownAtTarget, true);
});
