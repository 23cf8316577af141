// Scenario 8: disaster recovery from an encrypted repository alone, as `pgkeep scenario run` runs
// it: every archived row back, the unarchived ones lost, RPO and RTO measured.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOk } from './test-scenarios.js';

test('disaster recovery: the host is lost; from the repository and the passphrase alone every archived row comes back', async () => {
  const r = await runOk('disaster-recovery');
  const lines = r.steps.find((s) => s.name === 'new-host')?.result;
  assert.match(JSON.stringify(lines), /650 orders, 300 customers \(5 lost: never archived\)/);
  assert.ok(r.rpo.seconds >= 0 && r.rpo.seconds < 60, `RPO ${r.rpo.seconds}`);
  assert.ok(r.rto.seconds > 0 && r.rto.seconds < 300, `RTO ${r.rto.seconds}`);
});
