/** Drill records read back from a real (posix) repository: good ones in time order, damaged ones reported, none skipped. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newPosixRepo } from '../repo/test-utils.js';
import { drillObjectName, listDrillRecords, parseDrillRecord, readDrillRecords, type DrillRecord } from './drill-records.js';
import { PgkeepError } from '../errors.js';

const record = (id: string, startedAt: string, over: Partial<DrillRecord> = {}): DrillRecord => ({
  format: 1,
  id,
  cluster: 'main',
  startedAt,
  finishedAt: startedAt,
  ok: true,
  target: { kind: 'latest' },
  rtoSeconds: 10,
  phases: [{ name: 'restore', seconds: 10, ok: true }],
  checks: [],
  host: 'h',
  pgkeepVersion: '0.1.0',
  ...over,
});

test('records come back oldest first with their fields; damaged ones are listed with the reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-drill-records-'));
  try {
    const repo = await newPosixRepo(dir);
    const late = record('b', '2026-06-02T00:00:00Z', { ok: false, failedPhase: 'wal', error: 'segment X is missing', rpoSeconds: 3 });
    const early = record('a', '2026-06-01T00:00:00Z');
    for (const r of [late, early]) await repo.putObject(drillObjectName('main', r.id), Buffer.from(JSON.stringify(r)));
    await repo.putObject('drills/main/c.json', Buffer.from('{"format": 1, "id": "c"'));
    await repo.putObject('drills/main/d.json', Buffer.from(JSON.stringify({ ...early, id: 'd', rtoSeconds: 'soon' })));
    await repo.putObject('drills/other/e.json', Buffer.from(JSON.stringify(record('e', '2026-06-03T00:00:00Z'))));
    const { records, damaged } = await readDrillRecords(repo, 'main');
    assert.deepEqual(records, [early, late]);
    assert.deepEqual(
      damaged.map((d) => d.object),
      ['drills/main/c.json', 'drills/main/d.json'],
    );
    assert.match(damaged[1]!.message, /rtoSeconds is not a number/);
    await assert.rejects(
      listDrillRecords(repo, 'main'),
      (e: unknown) => e instanceof PgkeepError && e.code === 'DATA_INTEGRITY' && /c\.json/.test(e.message),
    );
    await repo.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a record of another format or without a field is refused naming the field', () => {
  assert.throws(() => parseDrillRecord({ ...record('a', '2026-06-01T00:00:00Z'), format: 2 }), /format is 2/);
  const { host: _, ...noHost } = record('a', '2026-06-01T00:00:00Z');
  assert.throws(() => parseDrillRecord(noHost), /host is not a string/);
  assert.throws(() => parseDrillRecord({ ...record('a', 'x') }), /startedAt is not a time/);
  assert.throws(
    () => parseDrillRecord({ ...record('a', '2026-06-01T00:00:00Z'), phases: [{ name: 'wal', seconds: 1 }] }),
    /phases\[0\]\.ok/,
  );
  assert.throws(
    () => parseDrillRecord({ ...record('a', '2026-06-01T00:00:00Z'), phases: [{ name: 'x', seconds: 1, ok: true }] }),
    /phases\[0\]\.name is "x"/,
  );
  assert.throws(() => parseDrillRecord({ ...record('a', '2026-06-01T00:00:00Z'), target: { kind: 'soon' } }), /target.kind is "soon"/);
});
