// Scenarios 6 (a COPY export, and why it is not a backup), 7 (a standby built from a backup,
// streaming, then promoted) and 10 (zero data loss: wal stream --synchronous), run as
// `pgkeep scenario run` runs them: their data, and RPO/RTO.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fact, runOk } from './test-scenarios.js';

test('copy-export: every row of orders leaves as CSV and loads back identical, without what surrounds it', async () => {
  const r = await runOk('copy-export');
  assert.equal(fact(r, 'export', 'rows'), 600);
  assert.ok(r.rpo.seconds > 0 && r.rpo.seconds < 300, `RPO ${r.rpo.seconds}`);
  assert.ok(r.rto.seconds >= 0 && r.rto.seconds < 60, `RTO ${r.rto.seconds}`);
});

test('standby: restored from the backup, streams from the primary, a write arrives, promoted it accepts writes', async () => {
  const r = await runOk('standby');
  const lag = Number(fact(r, 'lag', 'lagSeconds'));
  assert.ok(lag >= 0 && lag < 30, `lag ${lag}`);
  assert.equal(r.rpo.seconds, lag);
  assert.ok(r.rto.seconds > 0 && r.rto.seconds < 120, `RTO ${r.rto.seconds}`);
});

test('zero data loss: of twenty commits, the synchronous stream holds all, archiving alone none of the unfinished segment', async () => {
  const r = await runOk('zero-data-loss');
  assert.equal(fact(r, 'count', 'inStream'), 20);
  assert.equal(fact(r, 'count', 'inArchive'), 0);
  assert.equal(r.rpo.seconds, 0);
  assert.match(r.rpo.meaning, /with archiving alone: 20 lost, \d+\.\d s since the last archived segment/);
});
