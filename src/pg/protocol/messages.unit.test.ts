import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgkeepError } from '../../errors.js';
import { parseBaseBackupCopyData } from './base-backup-messages.js';
import { buildHotStandbyFeedback, buildStandbyStatusUpdate, parseReplicationCopyData } from './replication-messages.js';
import { PG_EPOCH_MS, fromPgTimestamp, toPgTimestamp } from './pg-time.js';

test('BASE_BACKUP CopyData payloads', () => {
  assert.deepEqual(parseBaseBackupCopyData(Buffer.from('n16385.tar\0/srv/ts1\0')), {
    type: 'new-archive',
    name: '16385.tar',
    location: '/srv/ts1',
  });
  assert.deepEqual(parseBaseBackupCopyData(Buffer.from('nbase.tar\0\0')), { type: 'new-archive', name: 'base.tar', location: '' });
  const d = parseBaseBackupCopyData(Buffer.from('dabc'));
  assert.equal(d.type, 'data');
  assert.equal(d.type === 'data' && d.data.toString(), 'abc');
  const p = Buffer.alloc(9);
  p[0] = 0x70;
  p.writeBigInt64BE(5_000_000_000n, 1);
  assert.deepEqual(parseBaseBackupCopyData(p), { type: 'progress', bytes: 5_000_000_000n });
  assert.deepEqual(parseBaseBackupCopyData(Buffer.from('m')), { type: 'manifest' });
  for (const bad of ['', 'x', 'nbase.tar', 'p1234']) {
    assert.throws(
      () => parseBaseBackupCopyData(Buffer.from(bad)),
      (e: unknown) => e instanceof PgkeepError && e.code === 'CONNECTION',
      bad,
    );
  }
});

test('XLogData and keepalive', () => {
  const w = Buffer.alloc(25 + 3);
  w[0] = 0x77;
  w.writeBigUInt64BE(0x1_0000_0000n, 1);
  w.writeBigUInt64BE(0xffff_ffff_ffff_fff0n, 9);
  w.writeBigInt64BE(-5n, 17);
  w.write('wal', 25);
  const m = parseReplicationCopyData(w);
  assert.equal(m.type, 'xlogdata');
  if (m.type === 'xlogdata') {
    assert.equal(m.start, 0x1_0000_0000n);
    assert.equal(m.end, 0xffff_ffff_ffff_fff0n);
    assert.equal(m.sendTime, -5n);
    assert.equal(m.data.toString(), 'wal');
  }
  const k = Buffer.alloc(18);
  k[0] = 0x6b;
  k.writeBigUInt64BE(123n, 1);
  k.writeBigInt64BE(456n, 9);
  k[17] = 1;
  assert.deepEqual(parseReplicationCopyData(k), { type: 'keepalive', end: 123n, time: 456n, replyRequested: true });
  k[17] = 0;
  assert.equal((parseReplicationCopyData(k) as { replyRequested: boolean }).replyRequested, false);
  assert.throws(() => parseReplicationCopyData(k.subarray(0, 17)), PgkeepError);
  assert.throws(() => parseReplicationCopyData(Buffer.from('z')), PgkeepError);
});

test('standby status update and hot standby feedback', () => {
  const b = buildStandbyStatusUpdate({ write: 3n, flush: 2n, apply: 1n, clock: 99n, replyRequested: true });
  assert.equal(b.length, 34);
  assert.equal(b.toString('latin1', 0, 1), 'r');
  assert.equal(b.readBigUInt64BE(1), 3n);
  assert.equal(b.readBigUInt64BE(9), 2n);
  assert.equal(b.readBigUInt64BE(17), 1n);
  assert.equal(b.readBigInt64BE(25), 99n);
  assert.equal(b[33], 1);
  assert.equal(buildStandbyStatusUpdate({ write: 0n, flush: 0n, apply: 0n })[33], 0);
  const h = buildHotStandbyFeedback({ clock: 7n, xmin: 0xffffffff, xminEpoch: 1, catalogXmin: 2, catalogXminEpoch: 3 });
  assert.equal(h.length, 25);
  assert.equal(h.toString('latin1', 0, 1), 'h');
  assert.equal(h.readBigInt64BE(1), 7n);
  assert.deepEqual([h.readUInt32BE(9), h.readUInt32BE(13), h.readUInt32BE(17), h.readUInt32BE(21)], [0xffffffff, 1, 2, 3]);
});

test('protocol times are microseconds since 2000-01-01 UTC', () => {
  assert.equal(toPgTimestamp(new Date('2000-01-01T00:00:00Z')), 0n);
  assert.equal(toPgTimestamp(new Date('2000-01-01T00:00:01.5Z')), 1_500_000n);
  assert.equal(toPgTimestamp(PG_EPOCH_MS - 1), -1000n);
  assert.equal(fromPgTimestamp(86_400_000_000n).toISOString(), '2000-01-02T00:00:00.000Z');
  const now = Date.now();
  assert.equal(fromPgTimestamp(toPgTimestamp(now)).getTime(), now);
});
