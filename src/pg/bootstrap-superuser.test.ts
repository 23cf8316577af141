/** The bootstrap superuser's name read from a stopped data directory, for an initdb -U other than postgres. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from './local-cluster.js';
import { readBootstrapSuperuser } from './bootstrap-superuser.js';

let cluster: LocalCluster | undefined;
after(async () => {
  await cluster?.destroy();
});

test('the role of OID 10 is read from global/1260 (initdb -U alice, later renamed); none from a directory without it', async () => {
  cluster = await LocalCluster.create({ superuser: 'alice' });
  assert.equal(readBootstrapSuperuser(cluster.dataDir), 'alice');
  // Other roles, created and renamed later, do not change the answer.
  await cluster.start();
  await cluster.exec('create role bob superuser login; create role carol; alter role carol rename to dave');
  await cluster.stop('fast');
  assert.equal(readBootstrapSuperuser(cluster.dataDir), 'alice');
  // The bootstrap superuser renamed (by another superuser): the live version of the row wins.
  await cluster.start();
  await cluster.psql(['-c', 'alter role alice rename to eve'], { user: 'bob' });
  await cluster.stop('fast');
  assert.equal(readBootstrapSuperuser(cluster.dataDir), 'eve');
  const empty = mkdtempSync(join(tmpdir(), 'pgkeep-no-data-'));
  try {
    assert.equal(readBootstrapSuperuser(empty), undefined);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
