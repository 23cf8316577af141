/**
 * LocalCluster.create({ major }) on a major the system lacks: the npm server binaries (initdb,
 * pg_ctl, postgres only) start it; psql comes from wherever the locator finds one; 18's initdb
 * turns checksums on by default, so dataChecksums: false must say --no-data-checksums; controlData()
 * needs no pg_controldata of that major (pg/control-file.ts).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { LocalCluster } from './local-cluster.js';
import { findPgBinDir } from './bin.js';
import { serverOsUser } from './server-user.js';
import { PgkeepError } from '../errors.js';

let c: LocalCluster | undefined;
after(async () => c?.destroy());

test('create({ major: 18, dataChecksums: false }) starts an 18 without checksums; psql works against it', async () => {
  c = await LocalCluster.create({ major: 18, dataChecksums: false });
  assert.equal(c.major, 18);
  await c.start();
  const [r] = await c.query<{ v: number; c: string }>(
    "select current_setting('server_version_num')::int / 10000 as v, current_setting('data_checksums') as c",
  );
  assert.deepEqual(r, { v: 18, c: 'off' });
  assert.equal((await c.psql(['-At', '-c', 'select 6 * 7'])).trim(), '42');
  // no pg_controldata 18 here: the control file is read by pgkeep
  const control = await c.controlData();
  assert.equal(control['Database cluster state'], 'in production');
  assert.equal(control['Data page checksum version'], '0');
  const [s] = await c.query<{ id: string }>('select system_identifier::text as id from pg_control_system()');
  assert.equal(control['Database system identifier'], s!.id);
});

test('binaries the server OS user cannot reach (a checkout under /root) are refused before initdb, naming the directory', async (t) => {
  if (!serverOsUser()) return t.skip('not root: the server runs as this user');
  const bin = await findPgBinDir({ major: 17 });
  const closed = mkdtempSync(join('/var/tmp', 'pgkeep-closed-'));
  try {
    chmodSync(closed, 0o700);
    const dir = join(closed, 'bin');
    mkdirSync(dir);
    for (const p of ['initdb', 'pg_ctl', 'postgres']) symlinkSync(join(bin.binDir, p), join(dir, p));
    await assert.rejects(
      LocalCluster.create({ pgBin: dir }),
      (e: unknown) =>
        e instanceof PgkeepError &&
        e.code === 'UNSUPPORTED' &&
        e.message.includes(`${closed} is not searchable`) &&
        /chmod o\+x/.test(e.hint ?? ''),
    );
  } finally {
    rmSync(closed, { recursive: true, force: true });
  }
});
