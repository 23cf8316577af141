// Needs PostgreSQL client binaries installed (no server is started).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgkeepError } from '../errors.js';
import { findPgBinDir, findPgTool } from './bin.js';

test('findPgTool finds pg_dump of the installed major, and says what to install otherwise', async () => {
  const bin = await findPgBinDir();
  const dump = await findPgTool('pg_dump', { minMajor: bin.major });
  assert.ok(dump.major >= bin.major);
  assert.match(dump.path, /pg_dump$/);
  const exact = await findPgTool('pg_controldata', { exactMajor: bin.major, pgBin: bin.binDir });
  assert.equal(exact.path, `${bin.binDir}/pg_controldata`);
  assert.equal(exact.major, bin.major);

  await assert.rejects(findPgTool('pg_restore', { minMajor: 99 }), (e: unknown) => {
    assert.ok(e instanceof PgkeepError);
    assert.equal(e.code, 'TOOL_MISSING');
    assert.match(e.message, /pg_restore of major 99 or newer is needed; found only .*pg_restore \(\d+/);
    assert.match(e.hint ?? '', /install postgresql-client-99/);
    return true;
  });
  await assert.rejects(findPgTool('no_such_pg_tool'), /no_such_pg_tool of any version is needed; found none/);
});
