// Scenarios 2 (restore-table while production runs) and 3 (migrate to a newer major), run as
// `pgkeep scenario run` runs them, in fast mode: their data checks, and RPO/RTO that are numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fact, runOk } from './test-scenarios.js';

test('restore-table: products back as of 1 s before the mistake while orders kept coming; RPO 1 s, RTO the restore', async () => {
  const r = await runOk('restore-table');
  assert.equal(fact(r, 'restore-table', 'rows'), 40, 'every product row came back');
  assert.equal(fact(r, 'repair', 'zeroBefore'), 40, 'the mistake had zeroed every price');
  assert.ok(Number(fact(r, 'restore-table', 'ordersDuringRestore')) > 0, 'production wrote during the restore');
  assert.ok(Math.abs(r.rpo.seconds - 1) < 0.01, `RPO ${r.rpo.seconds}`);
  assert.ok(r.rto.seconds > 0 && r.rto.seconds < 300, `RTO ${r.rto.seconds}`);
  assert.equal(r.rto.seconds, fact(r, 'restore-table', 'seconds'));
});

test('migrate: one database dumped from the old major and restored into a newer one, identical row for row; RPO 0 in a read-only window', async () => {
  const r = await runOk('migrate');
  assert.equal(fact(r, 'window', 'writesRefused'), true, 'the window really refused writes');
  assert.equal(fact(r, 'restore-dump', 'errors'), 0);
  const lines = (fact(r, 'restore-dump', 'lines') as string[]).join('\n');
  assert.match(lines, /orders 600, customers 300, view there: identical to the old server/);
  assert.equal(r.rpo.seconds, 0);
  assert.ok(r.rto.seconds > 0 && r.rto.seconds < 300, `RTO ${r.rto.seconds}`);
});
