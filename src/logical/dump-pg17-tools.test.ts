// A PostgreSQL 17 server (the embedded 17 binaries) where only the 15 client tools are installed:
// pg_dump 15 refuses it, so `dump` fails before storing anything, naming the server's major, the
// tools it found and the package to install (or where to point pgkeep).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PgkeepError } from '../errors.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { findPgTool } from '../pg/bin.js';
import { initRepository, type Repository } from '../repo/index.js';
import { dump } from './dump/index.js';

const PG17 = fileURLToPath(new URL('../../node_modules/embedded-pg-17/native/bin', import.meta.url));

let cluster: LocalCluster;
let dir: string;
let repo: Repository & { closeAll(): Promise<void> };

before(async () => {
  cluster = await LocalCluster.create({ pgBin: PG17 });
  await cluster.start();
  dir = mkdtempSync(join(tmpdir(), 'pgkeep-dump-pg17-'));
  repo = await initRepository({ path: join(dir, 'repo') });
  await cluster.exec('CREATE TABLE t (id int); INSERT INTO t VALUES (1);');
});

after(async () => {
  await repo?.closeAll().catch(() => {});
  await cluster?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('PostgreSQL 17 without 17+ client tools: dump fails with TOOL_MISSING naming 17, what was found and postgresql-client-17', async (t) => {
  const newest = await findPgTool('pg_dump').catch(() => undefined);
  if (newest && newest.major >= 17) {
    t.skip(`${newest.path} is ${newest.version}: this host can dump 17`);
    return;
  }
  // as configured (pg_bin = the server's bin directory, which has no pg_dump) and without pg_bin
  for (const settings of [cluster.connectionSettings(), { ...cluster.connectionSettings(), pgBin: undefined }]) {
    await assert.rejects(dump({ repo, clusterName: 'main', cluster: settings }), (e: unknown) => {
      assert.ok(e instanceof PgkeepError, String(e));
      assert.equal(e.code, 'TOOL_MISSING');
      assert.match(
        e.message,
        /^pg_dump 17 or newer is needed: the server is PostgreSQL 17 and pg_dump refuses a server newer than itself; found /,
      );
      if (newest) assert.ok(e.message.includes(`${newest.path} (${newest.version})`), e.message);
      assert.match(e.hint ?? '', /apt-get install postgresql-client-17\b/);
      assert.match(e.hint ?? '', /pg_bin .*PGKEEP_PG_BIN/);
      return true;
    });
  }
  assert.deepEqual(await repo.listSnapshots('main'), [], 'nothing stored');
});
