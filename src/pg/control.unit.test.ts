import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseControlData } from './control.js';

const SAMPLE = `pg_control version number:            1300
Catalog version number:               202209061
Database system identifier:           7711627996586271322
Database cluster state:               in production
pg_control last modified:             Tue Nov 24 06:55:10 2026
Latest checkpoint location:           0/17414F8
Latest checkpoint's REDO location:    0/17414F8
Latest checkpoint's REDO WAL file:    000000010000000000000001
Latest checkpoint's TimeLineID:       1
Latest checkpoint's NextXID:          0:724
Latest checkpoint's oldestCommitTsXid:0
wal_level setting:                    replica
Database block size:                  8192
Bytes per WAL segment:                16777216
Data page checksum version:           1
`;

test('parseControlData reads the fields pgkeep uses', () => {
  const c = parseControlData(SAMPLE);
  assert.equal(c.pgControlVersion, 1300);
  assert.equal(c.catalogVersion, '202209061');
  assert.equal(c.systemIdentifier, '7711627996586271322');
  assert.equal(c.clusterState, 'in production');
  assert.equal(c.cleanlyShutDown, false);
  assert.equal(c.latestCheckpoint, '0/17414F8');
  assert.equal(c.redoWalFile, '000000010000000000000001');
  assert.equal(c.timeline, 1);
  assert.equal(c.walLevel, 'replica');
  assert.equal(c.blockSize, 8192);
  assert.equal(c.walSegmentSize, 16777216);
  assert.equal(c.dataChecksumVersion, 1);
  // values that contain colons, and keys glued to their value, stay intact
  assert.equal(c.fields["Latest checkpoint's NextXID"], '0:724');
  assert.equal(c.fields["Latest checkpoint's oldestCommitTsXid"], '0');
});

test('parseControlData: clean shutdown states', () => {
  for (const [state, clean] of [
    ['shut down', true],
    ['shut down in recovery', true],
    ['in crash recovery', false],
    ['shutting down', false],
  ] as const) {
    const c = parseControlData(
      `pg_control version number:            1300\nDatabase cluster state:               ${state}\nData page checksum version:           0\n`,
    );
    assert.equal(c.clusterState, state);
    assert.equal(c.cleanlyShutDown, clean, state);
    assert.equal(c.dataChecksumVersion, 0);
  }
});

test("parseControlData: a damaged control file's WARNING lines are warnings, not fields", () => {
  const c = parseControlData(`WARNING: Calculated CRC checksum does not match value stored in file.
Either the file is corrupt, or it has a different layout than this program
is expecting.  The results below are untrustworthy.

${SAMPLE}`);
  assert.deepEqual(c.warnings, [
    'Calculated CRC checksum does not match value stored in file. Either the file is corrupt, or it has a different layout than this program is expecting.  The results below are untrustworthy.',
  ]);
  assert.equal(c.crcMismatch, true);
  assert.equal(c.fields.WARNING, undefined);
  assert.equal(c.systemIdentifier, '7711627996586271322');
  assert.equal(parseControlData(SAMPLE).crcMismatch, false);
});

test('parseControlData: labels as older majors print them', () => {
  // 9.4 and older said "Current wal_level setting"; the value is the same.
  const c = parseControlData('pg_control version number:            942\nCurrent wal_level setting:            hot_standby\n');
  assert.equal(c.walLevel, 'hot_standby');
  assert.equal(c.pgControlVersion, 942);
});

test("parseControlData: output that is not pg_controldata's (another locale) is refused, naming why", () => {
  assert.throws(
    () =>
      parseControlData('pg_control-Versionsnummer:                1300\nDatenbanksystemidentifikation:           7711627996586271322\n'),
    (e: Error & { code?: string }) =>
      e.code === 'TOOL_MISSING' && /LC_ALL=C/.test(e.message) && /pg_control version number/.test(e.message),
  );
  assert.throws(() => parseControlData(''), /pg_control version number/);
});
