/**
 * A physical snapshot's meta is read once, through one checked parser (read-physical-meta.ts):
 * a missing field or a field of the wrong type is a DATA_INTEGRITY error naming the snapshot and
 * the field, in every command that reads it, on a real posix repository; and no production file
 * casts a manifest's meta to PhysicalBackupMeta instead.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { after, before, test } from 'node:test';
import { productionFiles, SRC_DIR } from '../test-support/source-files.js';
import type { Repository } from '../repo/index.js';
import { assertDamagedCases, damagedField, repoWithOneSnapshot, type DamageCase } from './test-damaged-meta.js';
import { listBackupsReport, showBackup, verifyBackup } from '../backup/index.js';
import { checkArchive } from '../wal/index.js';
import { findPreviousBackup } from '../backup/previous.js';
import { physicalMetaFixture, physicalMetaRecord } from './physical-meta.fixtures.js';
import { readPhysicalMeta } from './read-physical-meta.js';
import { resolveSnapshot } from './physical-snapshot.js';

const source = (meta: unknown) => ({ id: '20260102T030405Z-0001', cluster: 'main', meta: meta as Record<string, unknown> });

test('a meta as pgkeep backup writes it reads back as it was, and is parsed once per manifest', () => {
  const raw = physicalMetaRecord({
    externalConfig: {
      dataDirectory: '/var/lib/postgresql/15/main',
      files: [{ role: 'config_file', path: '/etc/postgresql/15/main/postgresql.conf', text: 'port = 5433\n' }],
      includeDirs: [],
    },
    stats: { seconds: 1.5 },
  });
  const meta = readPhysicalMeta(source(raw));
  assert.deepEqual(
    meta,
    physicalMetaFixture({
      externalConfig: {
        dataDirectory: '/var/lib/postgresql/15/main',
        files: [{ role: 'config_file', path: '/etc/postgresql/15/main/postgresql.conf', text: 'port = 5433\n' }],
        includeDirs: [],
      },
      stats: { seconds: 1.5 },
    }),
  );
  assert.equal(readPhysicalMeta(source(raw)), meta, 'the same manifest meta is not parsed twice');
  const cold = readPhysicalMeta(source(physicalMetaRecord({ method: 'cold', walStart: '', walEnd: '', backupLabel: undefined })));
  assert.equal(cold.walStart, '', 'a cold backup needs no WAL: "" is a valid walStart');
});

test('damaged meta: a missing field or a field of the wrong type names the snapshot and the field', () => {
  const cases: DamageCase[] = [
    ['walSegmentSize', (m) => delete m.walSegmentSize],
    [
      'timeline',
      (m) => {
        m.timeline = '1';
      },
    ],
    [
      'stopLsn',
      (m) => {
        m.stopLsn = 42;
      },
    ],
    [
      'startLsn',
      (m) => {
        m.startLsn = 'not an lsn';
      },
    ],
    [
      'method',
      (m) => {
        m.method = 'rsync';
      },
    ],
    [
      'systemIdentifier',
      (m) => {
        m.systemIdentifier = 7301234567;
      },
    ], // a number loses digits: it is kept as a string
    [
      'standalone',
      (m) => {
        m.standalone = 'false';
      },
    ],
    [
      'walSegmentSize',
      (m) => {
        m.walSegmentSize = 3_000_000;
      },
    ],
    [
      'stopTime',
      (m) => {
        m.stopTime = 'yesterday';
      },
    ],
    [
      'tablespaces',
      (m) => {
        m.tablespaces = { oid: '16385' };
      },
    ],
    [
      'tablespaces[0].location',
      (m) => {
        m.tablespaces = [{ oid: '16385' }];
      },
    ],
    [
      'externalConfig.files[0].role',
      (m) => {
        m.externalConfig = { dataDirectory: '/d', files: [{ role: 'x', path: '/p' }], includeDirs: [] };
      },
    ],
    [
      'stats.seconds',
      (m) => {
        m.stats = { seconds: '1' };
      },
    ],
  ];
  assertDamagedCases(readPhysicalMeta, () => physicalMetaRecord(), cases);
});

let held: Awaited<ReturnType<typeof repoWithOneSnapshot>>;
let repo: Repository;
let damagedId: string;

before(async () => {
  const raw = physicalMetaRecord();
  delete raw.stopLsn;
  held = await repoWithOneSnapshot('physical', 'PG_VERSION', raw);
  ({ repo, id: damagedId } = held);
});
after(() => held.remove());

test('every command that reads a damaged meta refuses it with the snapshot and the field (restore, show, verify, wal check); list sets it apart', async () => {
  const expected = damagedField(damagedId, 'stopLsn');
  await assert.rejects(resolveSnapshot(repo, 'main', 'latest'), expected, 'restore (resolveSnapshot)');
  await assert.rejects(resolveSnapshot(repo, 'main', damagedId), expected, 'restore by id');
  await assert.rejects(showBackup(repo, 'main', 'latest'), expected, 'show');
  await assert.rejects(verifyBackup(repo, 'main', damagedId), expected, 'verify');
  await assert.rejects(checkArchive(repo, 'main'), expected, 'wal check');
  const listed = await listBackupsReport(repo, 'main');
  assert.deepEqual(listed.rows, [], 'not listed as a good backup');
  assert.equal(listed.damaged.length, 1);
  assert.equal(listed.damaged[0]!.id, damagedId);
  assert.match(listed.damaged[0]!.message, /field "stopLsn" is missing/);
});

test('the next backup is not made incremental to a backup whose meta is damaged: it is passed over with a warning', async () => {
  const warnings: string[] = [];
  assert.equal(await findPreviousBackup(repo, 'main', physicalMetaFixture().systemIdentifier, (w) => warnings.push(w)), undefined);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, new RegExp(`snapshot ${damagedId} .*field "stopLsn" is missing; it is left out`));
});

test("no reader casts a manifest's meta to a snapshot meta: every one goes through readPhysicalMeta or readDumpMeta", () => {
  const src = SRC_DIR;
  const cast =
    /\bas\s+(?:unknown\s+as\s+)?(?:Partial<\s*)?(?:PhysicalBackupMeta|DumpMeta)\b|\bmeta\s*\)?\s+as\s+\{\s*(?:systemIdentifier|dump)|\bmeta\.dump\b/;
  const found = productionFiles(src).flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .map((line, i) => (cast.test(line) ? `${relative(src, f)}:${i + 1}: ${line.trim()}` : ''))
      .filter(Boolean),
  );
  assert.deepEqual(found, [], 'casts of snapshot meta to PhysicalBackupMeta or DumpMeta');
});
