import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPgBinDir, parseToolVersion, pgToolPath } from './bin.js';
import { PgkeepError } from '../errors.js';

const empty = mkdtempSync(join(tmpdir(), 'pgkeep-bin-'));
after(() => rmSync(empty, { recursive: true, force: true }));

test('parseToolVersion reads the major and full version', () => {
  assert.deepEqual(parseToolVersion('postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)\n'), { major: 15, version: '15.14' });
  assert.deepEqual(parseToolVersion('pg_ctl (PostgreSQL) 17.10'), { major: 17, version: '17.10' });
  assert.deepEqual(parseToolVersion('initdb (PostgreSQL) 18beta1'), { major: 18, version: '18beta1' });
  assert.deepEqual(parseToolVersion('pg_dump (PostgreSQL) 9.6.24'), { major: 9, version: '9.6' });
  assert.equal(parseToolVersion('something else'), undefined);
  assert.equal(pgToolPath('/usr/lib/postgresql/15/bin', 'pg_ctl'), '/usr/lib/postgresql/15/bin/pg_ctl');
});

test('an explicit directory without the binaries is TOOL_MISSING, naming where it came from', async () => {
  await assert.rejects(findPgBinDir({ env: { PGKEEP_PG_BIN: empty } }), (e: unknown) =>
    e instanceof PgkeepError && e.code === 'TOOL_MISSING' && e.exitCode === 12
    && e.message.includes(empty) && e.message.includes('PGKEEP_PG_BIN') && /initdb, pg_ctl, postgres/.test(e.message));
  await assert.rejects(findPgBinDir({ pgBin: empty, need: ['pg_dump'] }), /has no pg_dump/);
});

test('the search finds installed binaries; an explicit directory and a major are honoured', async (t) => {
  let found;
  try {
    found = await findPgBinDir({ env: {} });
  } catch (e) {
    if (e instanceof PgkeepError && e.code === 'TOOL_MISSING') return t.skip('no PostgreSQL binaries on this machine');
    throw e;
  }
  assert.ok(found.major >= 10);
  assert.match(found.version, new RegExp(`^${found.major}`));
  const again = await findPgBinDir({ env: { PGKEEP_PG_BIN: found.binDir }, major: found.major });
  assert.equal(again.binDir, found.binDir);
  await assert.rejects(findPgBinDir({ pgBin: found.binDir, major: found.major + 1 }), (e: unknown) =>
    e instanceof PgkeepError && e.code === 'TOOL_MISSING' && e.message.includes(`major ${found.major + 1} is needed`));
  await assert.rejects(findPgBinDir({ env: {}, major: 3 }), (e: unknown) =>
    e instanceof PgkeepError && e.code === 'TOOL_MISSING' && /apt-get install postgresql-3/.test(e.hint ?? ''));
});
