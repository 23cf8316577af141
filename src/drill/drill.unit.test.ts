/** The drill's pure parts: --target, the user's SQL file, what the sandbox needs on disk and the refusal without it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import type { PitrPlan } from '../restore/index.js';
import { parseDrillTarget } from './choose.js';
import { parseCheckSql } from './user-sql.js';
import { createDrillSandbox, sandboxNeed, WAL_SEGMENTS_ON_DISK } from './sandbox.js';
import { newDrillId, isDrillId } from '../holdings/drill-records.js';

const usage = (e: unknown) => e instanceof PgkeepError && e.code === 'USAGE';

test('--target: latest (default), random with its days, a time; anything else is a USAGE error', () => {
  assert.deepEqual(parseDrillTarget(undefined), { kind: 'latest' });
  assert.deepEqual(parseDrillTarget('random', 30), { kind: 'random', days: 30 });
  assert.deepEqual(parseDrillTarget('random'), { kind: 'random', days: 7 });
  const t = parseDrillTarget('2026-01-02 14:05:00+01');
  assert.equal(t.kind === 'time' && t.time.iso, '2026-01-02T13:05:00Z');
  assert.throws(
    () => parseDrillTarget('yesterday'),
    (e: unknown) => usage(e) && /neither latest, random nor a time/.test((e as Error).message),
  );
  assert.throws(() => parseDrillTarget('random', 0), usage);
});

test('--check-sql: statements split on semicolons outside quotes, dollar quotes and comments; \\c switches database', () => {
  const checks = parseCheckSql(
    "-- orders are there\nselect count(*) > 0 from orders;\nselect $$a;b$$ = 'a;''b' /* ; */;\n\\c \"Shop DB\"\nselect true\n",
    'f.sql',
  );
  assert.deepEqual(checks, [
    { database: 'postgres', sql: 'select count(*) > 0 from orders', line: 2 },
    { database: 'postgres', sql: "select $$a;b$$ = 'a;''b' /* ; */", line: 3 },
    { database: 'Shop DB', sql: 'select true', line: 5 },
  ]);
  assert.throws(
    () => parseCheckSql('-- nothing\n', 'f.sql'),
    (e: unknown) => usage(e) && /no SQL statement/.test((e as Error).message),
  );
  assert.throws(
    () => parseCheckSql('\\set x 1\nselect true;', 'f.sql'),
    (e: unknown) => usage(e) && /f\.sql:1: only \\c DATABASE/.test((e as Error).message),
  );
});

test('the sandbox needs the backup plus the WAL to replay (at most 64 segments); refused naming the amount when the disk lacks it', async () => {
  const seg = 16 * 1024 * 1024;
  const plan = (first: string, last: string) =>
    ({ wal: { fromArchive: { timeline: 1, first, last }, upTo: { lsn: '0/0', segment: last, what: 'record' } } }) as unknown as PitrPlan;
  assert.deepEqual(sandboxNeed(1000, plan('000000010000000000000002', '000000010000000000000004'), seg), {
    bytes: 1000 + 3 * seg,
    backupBytes: 1000,
    walBytes: 3 * seg,
  });
  assert.equal(sandboxNeed(0, plan('0000000100000000000000FF', '000000010000000200000000'), seg).walBytes, WAL_SEGMENTS_ON_DISK * seg);
  const parent = mkdtempSync(join(tmpdir(), 'pgkeep-drill-disk-'));
  try {
    await assert.rejects(
      createDrillSandbox(parent, { bytes: 2 ** 60, backupBytes: 2 ** 60 - seg, walBytes: seg }, '/nonexistent'),
      (e: unknown) =>
        e instanceof PgkeepError &&
        e.code === 'CONFLICT' &&
        /not enough disk for the drill's sandbox in .*it needs 1048576 TB \(the backup.s 1048576 TB and 16 MB of WAL\), .* are free/.test(
          e.message,
        ),
    );
    assert.deepEqual(readdirSync(parent), [], 'nothing created');
    const sb = await createDrillSandbox(parent, { bytes: 1, backupBytes: 1, walBytes: 0 }, '/bin');
    assert.match(sb.dir, /pgkeep-drill-/);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('drill ids sort by their start time', () => {
  const a = newDrillId(new Date('2026-01-02T03:04:05.678Z'), () => 0.5);
  assert.equal(a, '20260102T030405Z-800000');
  assert.ok(isDrillId(a));
  assert.ok(newDrillId(new Date('2026-01-02T03:04:06Z'), () => 0) > a);
});
