/**
 * keep-wal against a real (posix) repository and real files, no server: which WAL files of a
 * pg_wal count as unarchived (by name and content), which carry no WAL, and what is kept where.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { newPosixRepo, tempDir } from '../repo/test-utils.js';
import { walObjectName } from '../holdings/wal-layout.js';
import { keepUnarchivedWal } from './keep-wal.js';

const SYSID = 7312345678901234567n;
const SEG = 16 * 1024 * 1024;

/** The first page of a segment: XLogLongPageHeaderData for `pageAddress`, then some bytes. */
function segment(pageAddress: bigint, fill: number): Buffer {
  const b = Buffer.alloc(8192, fill);
  b.writeUInt16LE(0xd110, 0);
  b.writeUInt16LE(0x0002, 2);
  b.writeUInt32LE(1, 4);
  b.writeBigUInt64LE(pageAddress, 8);
  b.writeBigUInt64LE(SYSID, 24);
  b.writeUInt32LE(SEG, 32);
  b.writeUInt32LE(8192, 36);
  return b;
}

test('unarchived WAL: missing or different from the archive is saved (and kept with archive recovery); archived, zeroed and recycled segments are not', async () => {
  const work = await tempDir('pgkeep-keep-wal-');
  try {
    const repo = await newPosixRepo(join(work.path, 'repo'));
    const dataDir = join(work.path, 'data');
    mkdirSync(join(dataDir, 'pg_wal', 'archive_status'), { recursive: true });
    const files: Record<string, Buffer> = {
      '000000010000000000000002': segment(2n * BigInt(SEG), 1), // archived as it is
      '000000010000000000000003': segment(3n * BigInt(SEG), 2), // archived with other content (older copy)
      '000000010000000000000004': segment(4n * BigInt(SEG), 3), // never archived (.ready)
      '000000010000000000000005': Buffer.alloc(8192), // pre-allocated: zeros
      '000000010000000000000006': segment(1n * BigInt(SEG), 4), // recycled: the page address of segment 1
      '00000002.history': Buffer.from('1\t0/5000000\tno recovery target specified\n'),
    };
    for (const [n, data] of Object.entries(files)) writeFileSync(join(dataDir, 'pg_wal', n), data);
    writeFileSync(join(dataDir, 'pg_wal', 'archive_status', '000000010000000000000004.ready'), '');
    await repo.putObject(walObjectName('main', SYSID.toString(), '000000010000000000000002'), files['000000010000000000000002']!);
    await repo.putObject(walObjectName('main', SYSID.toString(), '000000010000000000000003'), segment(3n * BigInt(SEG), 9));

    const withRecovery = await keepUnarchivedWal({
      dataDir,
      repo,
      cluster: 'main',
      systemId: SYSID.toString(),
      archiveRecovery: true,
      snapshotPaths: new Set(['pg_wal/000000010000000000000003']),
    });
    const r = withRecovery.report!;
    assert.deepEqual(r.files, [
      { name: '000000010000000000000003', archive: 'different', keptInPgWal: false }, // the snapshot writes its own
      { name: '000000010000000000000004', archive: 'missing', keptInPgWal: true },
      { name: '00000002.history', archive: 'missing', keptInPgWal: true },
    ]);
    assert.equal(dirname(r.savedTo), work.path, 'beside the data directory');
    assert.match(r.savedTo, /\/data\.unarchived-wal-\d{8}T\d{6}Z$/);
    assert.deepEqual(readdirSync(r.savedTo).sort(), ['000000010000000000000003', '000000010000000000000004', '00000002.history']);
    assert.ok(
      readFileSync(join(r.savedTo, '000000010000000000000003')).equals(files['000000010000000000000003']!),
      'the local copy, not the archived one',
    );
    assert.ok(withRecovery.keepPaths.includes('pg_wal/000000010000000000000004'));
    assert.ok(withRecovery.keepPaths.includes('pg_wal/archive_status/000000010000000000000004.ready'));
    assert.ok(!withRecovery.keepPaths.some((p) => p.includes('000000010000000000000003')));

    // Without archive recovery nothing stays in pg_wal: the copy aside is what is left (a new directory each time).
    const plain = await keepUnarchivedWal({
      dataDir,
      repo,
      cluster: 'main',
      systemId: SYSID.toString(),
      archiveRecovery: false,
      snapshotPaths: new Set(),
    });
    assert.deepEqual(plain.keepPaths, []);
    assert.notEqual(plain.report!.savedTo, r.savedTo);
    assert.ok(plain.report!.files.every((f) => !f.keptInPgWal));

    // Everything archived as it is: nothing to say, nothing saved.
    await repo.putObject(walObjectName('main', SYSID.toString(), '000000010000000000000003'), files['000000010000000000000003']!);
    await repo.putObject(walObjectName('main', SYSID.toString(), '000000010000000000000004'), files['000000010000000000000004']!);
    await repo.putObject(walObjectName('main', SYSID.toString(), '00000002.history'), files['00000002.history']!);
    const none = await keepUnarchivedWal({
      dataDir,
      repo,
      cluster: 'main',
      systemId: SYSID.toString(),
      archiveRecovery: true,
      snapshotPaths: new Set(),
    });
    assert.deepEqual(none, { keepPaths: [] });
    await repo.close();
  } finally {
    await work.remove();
  }
});
