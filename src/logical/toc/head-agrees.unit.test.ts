import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPgTool } from '../../pg/bin.js';
import { SMALL_ARCHIVE } from '../restore/archive-rows.fixtures.js';
import { readCustomArchiveHead, type CustomArchiveHead } from './custom-archive-head.js';
import { headAgreesWithToc } from './head-agrees.js';
import { parseTocList } from './parse-list.js';
import type { TocEntry } from './types.js';

function head(): CustomArchiveHead {
  const r = readCustomArchiveHead(SMALL_ARCHIVE);
  assert.ok('head' in r, JSON.stringify(r));
  return r.head;
}

/** The fixture's TOC as pg_restore 15 lists it (what a dump's meta keeps). */
async function tocByPgRestore(): Promise<TocEntry[]> {
  const tool = await findPgTool('pg_restore');
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-head-agrees-'));
  try {
    writeFileSync(join(dir, 'a.dump'), SMALL_ARCHIVE);
    return parseTocList(execFileSync(tool.path, ['-l', join(dir, 'a.dump')], { encoding: 'utf8' })).entries;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const dataIds = (h: CustomArchiveHead) => h.entries.filter((e) => e.desc === 'TABLE DATA').map((e) => e.dumpId);

test("pgkeep's reading of a real pg_dump archive head agrees with pg_restore's listing", async () => {
  const h = head();
  const toc = await tocByPgRestore();
  assert.ok(toc.length >= 8, `pg_restore listed ${toc.length} entries`);
  assert.equal(headAgreesWithToc(h, toc, dataIds(h)), true);
});

test('any disagreement sends the rows through pg_restore', async () => {
  const h = head();
  const toc = await tocByPgRestore();
  const wanted = dataIds(h);
  const tableA = toc.find((e) => e.type === 'TABLE DATA' && e.name === 'a')!;
  const swap = (changed: Partial<TocEntry>) => toc.map((e) => (e === tableA ? { ...e, ...changed } : e));
  assert.equal(headAgreesWithToc(h, swap({ name: 'b' }), wanted), false, 'another table name');
  assert.equal(headAgreesWithToc(h, swap({ schema: 'other' }), wanted), false, 'another schema');
  assert.equal(headAgreesWithToc(h, swap({ type: 'TABLE' }), wanted), false, 'another type');
  assert.equal(headAgreesWithToc(h, swap({ dumpId: 99999 }), wanted), false, 'an entry the head lacks');
  assert.equal(headAgreesWithToc(h, toc, [...wanted, 99999]), false, 'wanted rows the head lacks');
  const noData = { ...h, entries: h.entries.map((e) => (e.dumpId === tableA.dumpId ? { ...e, copyStmt: null } : e)) };
  assert.equal(headAgreesWithToc(noData, toc, wanted), false, 'a table data entry without its COPY statement');
});
