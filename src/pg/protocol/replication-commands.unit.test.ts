import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgkeepError } from '../../errors.js';
import { parseLsn } from '../lsn.js';
import { baseBackupDialect } from './base-backup-dialect.js';
import {
  buildBaseBackupCommand,
  buildCreatePhysicalSlotCommand,
  buildDropSlotCommand,
  buildShowCommand,
  buildStartReplicationCommand,
  buildTimelineHistoryCommand,
  checkSlotName,
  quoteLiteral,
  slotCommandDialect,
} from './replication-commands.js';

const usage = (e: unknown): boolean => e instanceof PgkeepError && e.code === 'USAGE';

test('BASE_BACKUP options', () => {
  assert.equal(
    buildBaseBackupCommand(),
    `BASE_BACKUP (LABEL 'pgkeep base backup', PROGRESS, MANIFEST 'yes', MANIFEST_CHECKSUMS 'SHA256', TARGET 'client')`,
  );
  assert.equal(
    buildBaseBackupCommand({
      label: "Bob's backup",
      fast: true,
      wal: true,
      waitForArchive: false,
      progress: false,
      maxRateKbps: 1024,
      tablespaceMap: true,
      noVerifyChecksums: true,
      manifest: true,
      manifestChecksums: 'CRC32C',
    }),
    `BASE_BACKUP (LABEL 'Bob''s backup', CHECKPOINT 'fast', WAL, WAIT false, MAX_RATE 1024, TABLESPACE_MAP, VERIFY_CHECKSUMS false, MANIFEST 'yes', MANIFEST_CHECKSUMS 'CRC32C', TARGET 'client')`,
  );
  assert.equal(buildBaseBackupCommand({ manifest: false, progress: false }), `BASE_BACKUP (LABEL 'pgkeep base backup', TARGET 'client')`);
  assert.throws(() => buildBaseBackupCommand({ maxRateKbps: 10 }), usage);
  assert.throws(() => buildBaseBackupCommand({ label: 'a\0b' }), usage);
  assert.equal(quoteLiteral("it's"), "'it''s'");
});

test('BASE_BACKUP on 13 and 14: bare option keywords, no TARGET; older servers refused naming their version', () => {
  assert.equal(
    buildBaseBackupCommand({}, 'legacy'),
    `BASE_BACKUP LABEL 'pgkeep base backup' PROGRESS MANIFEST 'yes' MANIFEST_CHECKSUMS 'SHA256'`,
  );
  assert.equal(
    buildBaseBackupCommand(
      {
        label: "Bob's backup",
        fast: true,
        wal: true,
        waitForArchive: false,
        progress: false,
        maxRateKbps: 1024,
        tablespaceMap: true,
        noVerifyChecksums: true,
        manifestChecksums: 'CRC32C',
      },
      'legacy',
    ),
    `BASE_BACKUP LABEL 'Bob''s backup' FAST WAL NOWAIT MAX_RATE 1024 TABLESPACE_MAP NOVERIFY_CHECKSUMS MANIFEST 'yes' MANIFEST_CHECKSUMS 'CRC32C'`,
  );
  // a spread checkpoint is the server's default in both dialects: no word for it
  assert.equal(
    buildBaseBackupCommand({ fast: false, manifest: false, progress: false }, 'legacy'),
    `BASE_BACKUP LABEL 'pgkeep base backup'`,
  );
  assert.throws(() => buildBaseBackupCommand({ maxRateKbps: 2_000_000 }, 'legacy'), usage);
  assert.equal(baseBackupDialect(130023), 'legacy');
  assert.equal(baseBackupDialect(140020), 'legacy');
  assert.equal(baseBackupDialect(150014), 'current');
  assert.equal(baseBackupDialect(180004), 'current');
  for (const [num, version] of [
    [120022, '12.22'],
    [110000, '11.0'],
    [90624, '9.6.24'],
  ] as const) {
    assert.throws(
      () => baseBackupDialect(num),
      (e: unknown) =>
        e instanceof PgkeepError &&
        e.code === 'UNSUPPORTED' &&
        e.message.endsWith(`this server is ${version}`) &&
        /PostgreSQL 13 or newer/.test(e.message),
      String(num),
    );
  }
});

test("CREATE_REPLICATION_SLOT in the server's syntax: bare RESERVE_WAL on 13 and 14, parenthesised options on 15+", () => {
  for (const [num, dialect] of [
    [130023, 'legacy'],
    [140020, 'legacy'],
    [150014, 'current'],
    [160010, 'current'],
    [180004, 'current'],
  ] as const) {
    assert.equal(slotCommandDialect(num), dialect, String(num));
  }
  assert.equal(buildCreatePhysicalSlotCommand('s1', { reserveWal: true }, 'legacy'), 'CREATE_REPLICATION_SLOT s1 PHYSICAL RESERVE_WAL');
  assert.equal(
    buildCreatePhysicalSlotCommand('s1', { reserveWal: true, temporary: true }, 'legacy'),
    'CREATE_REPLICATION_SLOT s1 TEMPORARY PHYSICAL RESERVE_WAL',
  );
  assert.equal(buildCreatePhysicalSlotCommand('s1', { reserveWal: true }), 'CREATE_REPLICATION_SLOT s1 PHYSICAL (RESERVE_WAL)');
  assert.equal(
    buildCreatePhysicalSlotCommand('s1', { reserveWal: true, temporary: true }, 'current'),
    'CREATE_REPLICATION_SLOT s1 TEMPORARY PHYSICAL (RESERVE_WAL)',
  );
  for (const d of ['legacy', 'current'] as const)
    assert.equal(buildCreatePhysicalSlotCommand('s1', {}, d), 'CREATE_REPLICATION_SLOT s1 PHYSICAL');
});

test('START_REPLICATION, slots, TIMELINE_HISTORY, SHOW', () => {
  assert.equal(buildStartReplicationCommand({ startLsn: parseLsn('16/B3000000') }), 'START_REPLICATION PHYSICAL 16/B3000000');
  assert.equal(
    buildStartReplicationCommand({ slot: 'pgkeep_main', startLsn: 0n, timeline: 3 }),
    'START_REPLICATION SLOT pgkeep_main PHYSICAL 0/0 TIMELINE 3',
  );
  assert.throws(() => buildStartReplicationCommand({ startLsn: 0n, timeline: 0 }), usage);
  assert.equal(buildCreatePhysicalSlotCommand('s1', { temporary: true }), 'CREATE_REPLICATION_SLOT s1 TEMPORARY PHYSICAL');
  assert.equal(buildDropSlotCommand('s1', { wait: true }), 'DROP_REPLICATION_SLOT s1 WAIT');
  for (const bad of ['', 'Upper', 'with space', 'x'.repeat(64), 'semi;colon', 'quote"'])
    assert.throws(() => checkSlotName(bad), usage, bad);
  assert.equal(buildTimelineHistoryCommand(2), 'TIMELINE_HISTORY 2');
  assert.throws(() => buildTimelineHistoryCommand(0), usage);
  assert.equal(buildShowCommand('wal_segment_size'), 'SHOW wal_segment_size');
  assert.throws(() => buildShowCommand('x; DROP TABLE t'), usage);
});
