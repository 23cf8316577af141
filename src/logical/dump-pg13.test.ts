// Logical backups of a PostgreSQL 13 server (the embedded 13 binaries) with Debian's 15 client
// tools: pg_dump 15 dumps 13, pg_restore and psql 15 load it back into the 13 server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalCluster } from '../pg/local-cluster.js';
import { initRepository, type Repository } from '../repo/index.js';
import { dump } from './dump/index.js';
import { listDump } from './restore/list.js';
import { restoreDump } from './restore/index.js';
import { fingerprints as tableFingerprints } from './test-dump-restore.js';

const PG13 = fileURLToPath(new URL('../../node_modules/embedded-pg-13/native/bin', import.meta.url));
const TABLES = ['shop.orders', 'shop.counter_use'];

let cluster: LocalCluster;
let dir: string;
let repo: Repository & { closeAll(): Promise<void> };

const fingerprints = (db: string) => tableFingerprints(cluster, db, TABLES);

before(async () => {
  cluster = await LocalCluster.create({ pgBin: PG13 });
  await cluster.start();
  dir = mkdtempSync(join(tmpdir(), 'pgkeep-dump-pg13-'));
  repo = await initRepository({ path: join(dir, 'repo') }, { compression: 'zstd:1' });
  await cluster.exec('CREATE DATABASE app');
  await cluster.exec(
    `
    CREATE SCHEMA shop;
    CREATE TABLE shop.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, amount numeric(10,2),
      taxed numeric GENERATED ALWAYS AS (amount * 1.2) STORED, note text);
    INSERT INTO shop.orders (amount, note) SELECT g * 1.5, 'n' || g FROM generate_series(1, 2000) g;
    CREATE SEQUENCE shop.counter START 40;
    CREATE TABLE shop.counter_use (n bigint DEFAULT nextval('shop.counter'), at date);
    INSERT INTO shop.counter_use (at) SELECT '2026-01-01'::date + g FROM generate_series(1, 30) g;`,
    'app',
  );
});

after(async () => {
  await repo?.closeAll().catch(() => {});
  await cluster?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const format of ['custom', 'plain'] as const) {
  test(`PostgreSQL 13, ${format}: dumped with the 15 tools and restored into a new 13 database with the same data`, async () => {
    assert.equal(cluster.major, 13);
    const d = await dump({ repo, clusterName: 'main', cluster: cluster.connectionSettings('app'), format });
    const meta = await listDump(repo, 'main', d.snapshotId);
    assert.match(meta.pgDumpVersion, /^1[5-9]\./);
    assert.match(meta.serverVersion, /^13\./);
    const target = `copy_${format}`;
    await cluster.exec(`CREATE DATABASE ${target}`);
    const r = await restoreDump({
      repo,
      clusterName: 'main',
      cluster: cluster.connectionSettings('postgres'),
      id: d.snapshotId,
      into: target,
    });
    assert.equal(r.errorCount, 0);
    assert.deepEqual(await fingerprints(target), await fingerprints('app'));
    const [seq] = await cluster.query("SELECT nextval('shop.counter')::int AS n", [], target);
    assert.equal(seq.n, 70, 'the sequence continues where the source was');
  });
}
