import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dumpNeed, restoreNeeds, toolMissingError } from './tool-needs.js';

test('pg_dump and pg_dumpall: at least the server major', () => {
  for (const major of [13, 14, 15, 16, 17, 18]) {
    assert.deepEqual(dumpNeed('pg_dump', major).minMajor, major);
    assert.match(dumpNeed('pg_dumpall', major).why, new RegExp(`server is PostgreSQL ${major} and pg_dumpall refuses`));
  }
});

test('restore: at least the major of the pg_dump that wrote the dump (not only of the server it dumped)', () => {
  const m = (format: 'custom' | 'plain' | 'directory', pgDumpVersion: string, serverVersionNum: number, globals = false) =>
    restoreNeeds({
      format,
      pgDumpVersion,
      serverVersionNum,
      ...(globals ? { globals: { path: 'g', bytes: 1, noRolePasswords: false } } : {}),
    }).map((n) => `${n.tool}>=${n.minMajor}`);
  // a 13 server dumped with Debian's 15 tools: the archive has pg_dump 15's format
  assert.deepEqual(m('custom', '15.18', 130023), ['pg_restore>=15']);
  assert.deepEqual(m('directory', '17.2', 160004), ['pg_restore>=17']);
  assert.deepEqual(m('plain', '17.2', 130023), ['psql>=17']);
  assert.deepEqual(m('custom', '16.1', 160001, true), ['pg_restore>=16', 'psql>=16']);
  assert.deepEqual(m('custom', '18beta1', 180000), ['pg_restore>=18']);
  // an unreadable version falls back to the server's major
  assert.deepEqual(m('custom', '?', 140019), ['pg_restore>=14']);
});

test('the missing-tool error names the major, why, what was found and what to install', () => {
  const e = toolMissingError(dumpNeed('pg_dump', 17), [{ path: '/usr/lib/postgresql/15/bin/pg_dump', major: 15, version: '15.18' }]);
  assert.equal(e.code, 'TOOL_MISSING');
  assert.equal(
    e.message,
    'pg_dump 17 or newer is needed: the server is PostgreSQL 17 and pg_dump refuses a server newer than itself; ' +
      'found only /usr/lib/postgresql/15/bin/pg_dump (15.18)',
  );
  assert.match(e.hint ?? '', /apt-get install postgresql-client-17;/);
  assert.match(e.hint ?? '', /\/usr\/lib\/postgresql\/17\/bin/);
  assert.match(e.hint ?? '', /pg_bin in \[cluster\.NAME\] \(or PGKEEP_PG_BIN\)/);
  assert.match(
    toolMissingError(restoreNeeds({ format: 'plain', pgDumpVersion: '16.4', serverVersionNum: 160004 })[0]!, []).message,
    /^psql 16 or newer is needed: the dump was written by pg_dump 16\.4 .*; found no psql at all$/,
  );
});
