/**
 * A logical snapshot's meta (what `pgkeep dump` recorded under `dump`) is read through one checked
 * parser (read-dump-meta.ts), like the physical one: a missing field or a field of the wrong type
 * is a DATA_INTEGRITY error naming the snapshot and the field, in restore-dump, show and verify,
 * on a real posix repository; list sets such a snapshot apart.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Repository } from '../repo/index.js';
import { assertDamagedCases, damagedField, repoWithOneSnapshot, type DamageCase } from './test-damaged-meta.js';
import { listBackupsReport, showBackup, verifyBackup } from '../backup/index.js';
import { loadDumpSnapshot } from '../logical/restore/index.js';
import { dumpMetaFixture, dumpMetaRecord } from './dump-meta.fixtures.js';
import { readDumpMeta } from './read-dump-meta.js';

const source = (meta: unknown) => ({ id: '20260102T030405Z-0002', cluster: 'main', meta: meta as Record<string, unknown> });

/** The dump meta of a record, for damaging it in place. */
const dumpOf = (raw: Record<string, unknown>) => raw.dump as Record<string, unknown>;
const firstDb = (raw: Record<string, unknown>) => (dumpOf(raw).databases as Record<string, unknown>[])[0]!;
const firstEntry = (raw: Record<string, unknown>) => (firstDb(raw).toc as { entries: Record<string, unknown>[] }).entries[0]!;

test('a dump meta as pgkeep dump writes it reads back as it was, and is parsed once per manifest', () => {
  const over = {
    scope: 'all' as const,
    format: 'plain' as const,
    globals: { path: 'globals.sql', bytes: 10, noRolePasswords: true },
    databases: [
      { name: 'template1', format: 'plain' as const, path: 'databases/template1.sql', files: 1, bytes: 5, createsDatabase: false },
    ],
  };
  const raw = dumpMetaRecord(over);
  const meta = readDumpMeta(source(raw));
  assert.deepEqual(meta, dumpMetaFixture(over));
  assert.equal(readDumpMeta(source(raw)), meta, 'the same manifest meta is not parsed twice');
  assert.deepEqual(readDumpMeta(source(dumpMetaRecord())), dumpMetaFixture(), 'with a TOC');
});

test('damaged dump meta: a missing field or a field of the wrong type names the snapshot and the field', () => {
  const cases: DamageCase[] = [
    ['dump', (m) => delete m.dump],
    [
      'dump.version',
      (m) => {
        dumpOf(m).version = 2;
      },
    ],
    [
      'dump.scope',
      (m) => {
        dumpOf(m).scope = 'everything';
      },
    ],
    [
      'dump.format',
      (m) => {
        dumpOf(m).format = 'tar';
      },
    ],
    [
      'dump.serverVersionNum',
      (m) => {
        dumpOf(m).serverVersionNum = '150008';
      },
    ],
    [
      'dump.options.jobs',
      (m) => {
        (dumpOf(m).options as Record<string, unknown>).jobs = 0;
      },
    ],
    [
      'dump.options.compressedBy',
      (m) => {
        (dumpOf(m).options as Record<string, unknown>).compressedBy = 'gzip';
      },
    ],
    [
      'dump.options.tables',
      (m) => {
        (dumpOf(m).options as Record<string, unknown>).tables = 'orders';
      },
    ],
    [
      'dump.globals.noRolePasswords',
      (m) => {
        dumpOf(m).globals = { path: 'globals.sql', bytes: 1 };
      },
    ],
    [
      'dump.databases',
      (m) => {
        dumpOf(m).databases = { name: 'shop' };
      },
    ],
    [
      'dump.databases[0].path',
      (m) => {
        delete firstDb(m).path;
      },
    ],
    [
      'dump.databases[0].bytes',
      (m) => {
        firstDb(m).bytes = -1;
      },
    ],
    [
      'dump.databases[0].createsDatabase',
      (m) => {
        firstDb(m).createsDatabase = 'no';
      },
    ],
    [
      'dump.databases[0].toc.header.entryCount',
      (m) => {
        (firstDb(m).toc as { header: Record<string, unknown> }).header.entryCount = 'two';
      },
    ],
    [
      'dump.databases[0].toc.entries[0].dumpId',
      (m) => {
        firstEntry(m).dumpId = '215';
      },
    ],
    [
      'dump.databases[0].toc.entries[0].deps',
      (m) => {
        firstEntry(m).deps = ['215'];
      },
    ],
    [
      'dump.databases[0].toc.entries[0].schema',
      (m) => {
        firstEntry(m).schema = 7;
      },
    ],
  ];
  assertDamagedCases(readDumpMeta, () => dumpMetaRecord({ globals: { path: 'globals.sql', bytes: 1, noRolePasswords: false } }), cases);
});

let held: Awaited<ReturnType<typeof repoWithOneSnapshot>>;
let repo: Repository;
let damagedId: string;

before(async () => {
  const raw = dumpMetaRecord();
  delete firstDb(raw).format;
  held = await repoWithOneSnapshot('logical', 'databases/shop.dump', raw);
  ({ repo, id: damagedId } = held);
});
after(() => held.remove());

test('every command that reads a damaged dump meta refuses it with the snapshot and the field (restore-dump, show, verify); list sets it apart', async () => {
  const expected = damagedField(damagedId, 'dump.databases[0].format');
  await assert.rejects(loadDumpSnapshot(repo, 'main', 'latest'), expected, 'restore-dump');
  await assert.rejects(loadDumpSnapshot(repo, 'main', damagedId.slice(0, 12)), expected, 'restore-dump by the start of the id');
  await assert.rejects(showBackup(repo, 'main', 'latest'), expected, 'show');
  await assert.rejects(verifyBackup(repo, 'main', damagedId), expected, 'verify');
  const listed = await listBackupsReport(repo, 'main');
  assert.deepEqual(listed.rows, [], 'not listed as a good backup');
  assert.equal(listed.damaged.length, 1);
  assert.equal(listed.damaged[0]!.id, damagedId);
  assert.match(listed.damaged[0]!.message, /field "dump\.databases\[0\]\.format" is missing/);
});
