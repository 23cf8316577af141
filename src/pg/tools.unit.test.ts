import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseTool, type PgTool } from './tools.js';

const t = (path: string, major: number): PgTool => ({ path, major, version: `${major}.1` });

test('chooseTool prefers an explicit directory that fits, else the newest that fits', () => {
  const others = [t('/usr/lib/postgresql/13/bin/pg_dump', 13), t('/usr/lib/postgresql/17/bin/pg_dump', 17), t('/usr/lib/postgresql/15/bin/pg_dump', 15)];
  assert.equal(chooseTool([], others, { minMajor: 14 })?.major, 17);
  assert.equal(chooseTool([t('/opt/pg16/bin/pg_dump', 16)], others, { minMajor: 14 })?.path, '/opt/pg16/bin/pg_dump');
  // an explicit tool that is too old is passed over
  assert.equal(chooseTool([t('/opt/pg12/bin/pg_dump', 12)], others, { minMajor: 14 })?.major, 17);
  assert.equal(chooseTool([], others, { exactMajor: 15 })?.path, '/usr/lib/postgresql/15/bin/pg_dump');
  assert.equal(chooseTool([], others, { minMajor: 18 }), undefined);
  assert.equal(chooseTool([], [], {}), undefined);
});
