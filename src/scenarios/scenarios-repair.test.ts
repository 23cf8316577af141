// Scenarios 7 (disaster recovery from an encrypted repository alone, on the S3 the suite starts:
// Ceph RGW; a directory when PGKEEP_TEST_S3=skip) and 8 (a corrupted page repaired with
// restore --delta), as `pgkeep scenario run` runs them, with their data, RPO and RTO.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { runPgkeep } from '../test-support/cli.js';
import { storageFixtures, testedStorageKinds } from '../test-support/storage-fixtures.js';
import { fact, runOk } from './test-scenarios.js';

const s3 = testedStorageKinds().includes('s3');
const fx = storageFixtures();
after(() => fx.stop());

test(`disaster recovery (repository on ${s3 ? 'S3' : 'a directory'}): the host is lost; from the repository and the passphrase alone every archived row comes back`, async () => {
  const st = s3 ? await fx.s3Settings() : undefined;
  const r = await runPgkeep([...(st ? ['--repo', st.location] : []), 'scenario', 'run', 'disaster-recovery'], {
    env: st ? { ...st.env, PGKEEP_S3_ENDPOINT: st.s3Endpoint, PGKEEP_S3_REGION: st.s3Region } : {},
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const where = st ? `${st.location}/pgkeep-scenario-` : '/';
  const repo = new RegExp(
    `^ {3}archive_command = pgkeep wal push %p, into the repository (${where.replace(/[/.]/g, '\\$&')}\\S+)$`,
    'm',
  ).exec(r.stdout);
  assert.ok(repo, r.stdout);
  assert.match(
    r.stdout,
    st ? /^ {3}on S3, as given by --repo, PGKEEP_REPO or \[repo\] path$/m : /^ {3}a directory: no s3:\/\/ repository was given /m,
  );
  assert.match(r.stdout, /^ {3}650 orders, 300 customers \(5 lost: never archived\)$/m);
  assert.match(r.stdout, /^ok {3}every archived order is back$/m);
  assert.match(r.stdout, /^RPO \(what could be lost\): \d+\.\d s — /m);
  if (st) {
    const left = await fx.open('s3', { location: repo[1]! });
    const keys: string[] = [];
    for await (const o of left.list('')) keys.push(o.key);
    assert.deepEqual(keys, [], 'the scenario removed the repository it created on S3');
  }
});

test('disaster recovery on S3 without AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: refused before any cluster starts (exit 3), saying what to set', async () => {
  const r = await runPgkeep(['--repo', 's3://nowhere/drill', 'scenario', 'run', 'disaster-recovery'], {
    env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'somewhere' },
  });
  assert.equal(r.code, 3, r.stderr + r.stdout);
  assert.match(r.stderr, /the repository is on S3, and AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not set/);
  assert.match(r.stderr, /export both, or run the scenario without an s3:\/\/ repository/);
  assert.doesNotMatch(r.stdout, /== Step/);
});

test('corrupt page: the local backup refuses the damaged page, amcheck errors; restore --delta rewrites a few files and loses nothing', async () => {
  const r = await runOk('corrupt-page');
  assert.match(String(fact(r, 'detect', 'lines')), /page checksum verification failed for 1 page\(s\); first: base\/\d+\/\d+ block 1/);
  const rewritten = Number(fact(r, 'repair', 'filesRewritten'));
  assert.ok(rewritten > 0 && rewritten < 200, `${rewritten} files rewritten: only those that differ`);
  assert.equal(r.rpo.seconds, 0);
  assert.ok(r.rto.seconds > 0 && r.rto.seconds < 300, `RTO ${r.rto.seconds}`);
});
