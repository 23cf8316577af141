import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PgkeepError } from '../../errors.js';
import { parseLsn } from '../lsn.js';
import { computeManifestChecksum, parseBackupManifest } from './backup-manifest.js';
import { assertManifestVerified, verifyManifestEntries, type StoredFileFacts } from './manifest-verify.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A manifest laid out the way PostgreSQL writes it. */
function manifestText(opts: { version?: number; sysid?: string; files?: string[] } = {}): string {
  const head =
    opts.version === 2
      ? `{ "PostgreSQL-Backup-Manifest-Version": 2,\n"System-Identifier": ${opts.sysid},\n"Files": [\n`
      : '{ "PostgreSQL-Backup-Manifest-Version": 1,\n"Files": [\n';
  const files = opts.files ?? [
    `{ "Path": "backup_label", "Size": 5, "Last-Modified": "2024-05-01 10:00:00 GMT", "Checksum-Algorithm": "SHA256", "Checksum": "${sha('label')}" }`,
    `{ "Path": "base/1/1259", "Size": 3, "Last-Modified": "2024-05-01 10:00:01 GMT", "Checksum-Algorithm": "SHA256", "Checksum": "${sha('abc')}" }`,
    `{ "Encoded-Path": "${Buffer.from('odd\xff', 'latin1').toString('hex')}", "Size": 0, "Last-Modified": "2024-05-01 10:00:02 GMT", "Checksum-Algorithm": "SHA256", "Checksum": "${sha('')}" }`,
    `{ "Path": "pg_tblspc/16384/PG_15_202209061/5/16385", "Size": 4, "Last-Modified": "2024-05-01 10:00:03 GMT", "Checksum-Algorithm": "SHA256", "Checksum": "${sha('data').toUpperCase()}" }`,
  ];
  const body =
    head + files.join(',\n') + '\n],\n"WAL-Ranges": [\n{ "Timeline": 1, "Start-LSN": "0/2000028", "End-LSN": "0/2000100" }\n],\n';
  return `${body}"Manifest-Checksum": "${sha(body)}"}\n`;
}

test('parses a version 1 manifest and checks its own checksum', () => {
  const text = manifestText();
  const m = parseBackupManifest(Buffer.from(text));
  assert.equal(m.version, 1);
  assert.equal(m.systemIdentifier, undefined);
  assert.equal(m.files.length, 4);
  assert.deepEqual(m.files[0], {
    path: 'backup_label',
    size: 5,
    lastModified: new Date('2024-05-01T10:00:00Z'),
    checksumAlgorithm: 'SHA256',
    checksum: sha('label'),
  });
  assert.ok(m.files[2]!.pathBytes!.equals(Buffer.from('odd\xff', 'latin1')));
  assert.equal(m.files[3]!.checksum, sha('data'), 'checksums are normalised to lower case');
  assert.deepEqual(m.walRanges, [{ timeline: 1, startLsn: parseLsn('0/2000028'), endLsn: parseLsn('0/2000100') }]);
  assert.equal(m.manifestChecksum, computeManifestChecksum(text));
});

test('version 2 keeps the 64-bit system identifier exact', () => {
  const m = parseBackupManifest(manifestText({ version: 2, sysid: '7400000000000000123' }));
  assert.equal(m.version, 2);
  assert.equal(m.systemIdentifier, '7400000000000000123');
});

test('damaged manifests are DATA_INTEGRITY, unknown versions UNSUPPORTED', () => {
  const text = manifestText();
  const code =
    (c: string) =>
    (e: unknown): boolean =>
      e instanceof PgkeepError && e.code === c;
  assert.throws(() => parseBackupManifest(text.replace('"Size": 5', '"Size": 6')), code('DATA_INTEGRITY'));
  assert.equal(parseBackupManifest(text.replace('"Size": 5', '"Size": 6'), { verifyChecksum: false }).files[0]!.size, 6);
  assert.throws(() => parseBackupManifest(text.slice(0, -1)), code('DATA_INTEGRITY'));
  assert.throws(() => parseBackupManifest(text.slice(0, 100)), code('DATA_INTEGRITY'));
  assert.throws(() => parseBackupManifest(text.replace('Version": 1', 'Version": 9')), code('UNSUPPORTED'));
  assert.throws(() => parseBackupManifest(manifestText({ files: ['{ "Size": 1 }'] })), code('DATA_INTEGRITY'));
  assert.throws(
    () => parseBackupManifest(manifestText({ files: ['{ "Path": "x", "Size": 1, "Checksum-Algorithm": "MD5", "Checksum": "00" }'] })),
    code('DATA_INTEGRITY'),
  );
  assert.throws(() => parseBackupManifest(manifestText({ files: ['{ "Path": "x", "Size": -1 }'] })), code('DATA_INTEGRITY'));
  const noChecksum = parseBackupManifest(
    manifestText({ files: ['{ "Path": "x", "Size": 1, "Last-Modified": "2024-05-01 10:00:00 GMT", "Checksum-Algorithm": "NONE" }'] }),
  );
  assert.equal(noChecksum.files[0]!.checksum, undefined);
});

test('verifyManifestEntries reports missing, extra, size and checksum differences', () => {
  const m = parseBackupManifest(manifestText());
  const good = new Map<string, StoredFileFacts>([
    ['backup_label', { size: 5, sha256hex: sha('label') }],
    ['base/1/1259', { size: 3, sha256hex: sha('abc').toUpperCase() }],
    ['odd\ufffd', { size: 0, sha256hex: sha('') }],
    ['pg_tblspc/16384/PG_15_202209061/5/16385', { size: 4, sha256hex: sha('data') }],
    ['pg_wal/000000010000000000000002', { size: 16777216 }],
    ['backup_manifest', { size: 10 }],
  ]);
  const ok = verifyManifestEntries(m, good);
  assert.equal(ok.ok, true);
  assert.equal(ok.checked, 4);
  assert.doesNotThrow(() => assertManifestVerified(ok));

  const bad = new Map(good);
  bad.delete('backup_label');
  bad.set('base/1/1259', { size: 4, sha256hex: sha('abcd') });
  bad.set('pg_tblspc/16384/PG_15_202209061/5/16385', { size: 4, sha256hex: sha('DATA') });
  bad.set('odd\ufffd', { size: 0 });
  bad.set('base/1/99999', { size: 1 });
  const v = verifyManifestEntries(m, bad);
  assert.equal(v.ok, false);
  assert.deepEqual(v.missing, ['backup_label']);
  assert.deepEqual(v.extra, ['base/1/99999']);
  assert.deepEqual(v.sizeMismatches, [{ path: 'base/1/1259', expected: 3, actual: 4 }]);
  assert.deepEqual(v.checksumMismatches, [{ path: 'pg_tblspc/16384/PG_15_202209061/5/16385', expected: sha('data'), actual: sha('DATA') }]);
  assert.deepEqual(v.notChecksummed, ['odd\ufffd']);
  assert.throws(
    () => assertManifestVerified(v),
    (e: unknown) =>
      e instanceof PgkeepError &&
      e.code === 'DATA_INTEGRITY' &&
      /1 missing \(backup_label\)/.test(e.message) &&
      /different checksum/.test(e.message),
  );
  // custom ignore list
  assert.deepEqual(verifyManifestEntries(m, good, { ignoreExtra: () => false }).extra.sort(), [
    'backup_manifest',
    'pg_wal/000000010000000000000002',
  ]);
});
