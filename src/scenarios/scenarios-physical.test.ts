// Scenarios 4 (nightly dumps and archiving side by side) and 5 (cold backup in a maintenance
// window), run as `pgkeep scenario run` runs them, in fast mode: their data, and RPO/RTO.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fact, runOk } from './test-scenarios.js';

test('dumps and archiving: the dump loses the orders since it ran, the archive none; both RPOs measured', async () => {
  const r = await runOk('dumps-and-archiving');
  assert.equal(fact(r, 'side-by-side', 'lostByDump'), 50, "the day's 50 orders are not in the nightly dump");
  assert.ok(Math.abs(r.rpo.seconds - 1) < 0.01, `RPO ${r.rpo.seconds}`);
  assert.match(r.rpo.meaning, /the dump's RPO here: \d+\.\d s/);
  assert.ok(r.rto.seconds > 0 && r.rto.seconds < 300, `RTO ${r.rto.seconds}`);
});

test('cold backup: refused while running ("in production"), taken after a clean shutdown ("shut down"), restored identical', async () => {
  const r = await runOk('cold-backup');
  assert.equal(fact(r, 'refused-while-running', 'controlState'), 'in production');
  assert.equal(fact(r, 'stop', 'controlState'), 'shut down');
  assert.ok(Number(fact(r, 'cold-backup', 'pagesChecked')) > 100, 'pages were checksum-verified');
  assert.ok(Number(fact(r, 'start', 'windowSeconds')) > 0);
  assert.equal(r.rpo.seconds, 0);
  assert.ok(r.rto.seconds > 0 && r.rto.seconds < 300, `RTO ${r.rto.seconds}`);
});
