// Scenarios 7 (disaster recovery from an encrypted repository alone) and 8 (a corrupted page
// repaired with restore --delta), as `pgkeep scenario run` runs them
// with their data, RPO and RTO.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fact, runOk } from './test-scenarios.js';

test('disaster recovery: the host is lost; from the repository and the passphrase alone every archived row comes back', async () => {
  const r = await runOk('disaster-recovery');
  const lines = r.steps.find((s) => s.name === 'new-host')?.result;
  assert.match(JSON.stringify(lines), /650 orders, 300 customers \(5 lost: never archived\)/);
  assert.ok(r.rpo.seconds >= 0 && r.rpo.seconds < 60, `RPO ${r.rpo.seconds}`);
  assert.ok(r.rto.seconds > 0 && r.rto.seconds < 300, `RTO ${r.rto.seconds}`);
});

test('corrupt page: the local backup refuses the damaged page, amcheck errors; restore --delta rewrites a few files and loses nothing', async () => {
  const r = await runOk('corrupt-page');
  assert.match(String(fact(r, 'detect', 'lines')), /page checksum verification failed for 1 page\(s\); first: base\/\d+\/\d+ block 1/);
  const rewritten = Number(fact(r, 'repair', 'filesRewritten'));
  assert.ok(rewritten > 0 && rewritten < 200, `${rewritten} files rewritten: only those that differ`);
  assert.equal(r.rpo.seconds, 0);
  assert.ok(r.rto.seconds > 0 && r.rto.seconds < 300, `RTO ${r.rto.seconds}`);
});
