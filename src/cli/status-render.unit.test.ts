/** `pgkeep status` as text: the first line (what Nagios shows) carries the state and the worst check. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { monitorSettings } from '../config/monitor.js';
import { buildStatus, runChecks } from '../monitor/index.js';
import { renderStatus } from './status-render.js';

test('status text: state and reason first, then backups, window, archive, checks with their fix', () => {
  const facts = {
    cluster: 'main',
    at: new Date('2026-06-01T12:00:00Z'),
    serverError: 'no server socket /run/postgresql/.s.PGSQL.5432',
    pgdataProblem: 'cannot read /pgdata/pg_wal: EACCES',
    backups: [],
    repoError: undefined,
    walCheck: {
      cluster: 'main',
      timelines: [],
      backups: [],
      problems: [],
      damaged: [],
      damagedManifests: [],
      filesRead: 0,
      readData: false,
      ok: true,
    },
  };
  const text = renderStatus(buildStatus(facts, runChecks(facts, monitorSettings({}))));
  const lines = text.split('\n');
  assert.equal(lines[0], 'cluster main: CRITICAL - backup_age: no restorable physical backup in the repository');
  assert.match(text, /^archive: +unknown \(server unreachable\)$/m);
  assert.match(text, /^ {2}UNKNOWN +archive: the server could not be reached: no server socket/m);
  assert.match(text, /^ {11}fix: take one now: pgkeep --cluster main backup/m);
});
