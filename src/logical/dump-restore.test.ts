import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LocalCluster } from '../pg/local-cluster.js';
import { initRepository } from '../repo/index.js';
import type { Repository } from '../repo/index.js';
import { dump } from './dump/index.js';
import { restoreDump } from './restore/index.js';
import { listDump } from './restore/list.js';
import type { DumpFormat } from './meta.js';
import { databaseFacts, fingerprints, PARTS, partitionFacts, relations, SHOP } from './test-dump-restore.js';

let cluster: LocalCluster;
let dir: string;
let repo: Repository & { closeAll(): Promise<void> };

const settings = (db = 'postgres') => cluster.connectionSettings(db);

before(async () => {
  cluster = await LocalCluster.create();
  await cluster.start();
  dir = mkdtempSync(join(tmpdir(), 'pgkeep-dump-test-'));
  repo = await initRepository({ path: join(dir, 'repo') }, { compression: 'zstd:1' });
  await cluster.exec('CREATE DATABASE shop');
  await cluster.exec(SHOP, 'shop');
});

after(async () => {
  await repo?.closeAll().catch(() => {});
  await cluster?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const format of ['custom', 'directory', 'plain'] as DumpFormat[]) {
  test(`${format} format: dump, restore into a database of another name, same data`, async () => {
    const d = await dump({ repo, clusterName: 'main', cluster: settings('shop'), format, jobs: format === 'directory' ? 2 : undefined });
    assert.equal(d.scope, 'database');
    assert.equal(d.databases[0]!.name, 'shop');
    assert.ok(d.dumpBytes > 0);
    if (format === 'plain') assert.equal(d.databases[0]!.entries, undefined);
    else assert.ok(d.databases[0]!.entries! > 10);
    const target = `copy_${format}`;
    await cluster.exec(`CREATE DATABASE ${target}`);
    const r = await restoreDump({
      repo,
      clusterName: 'main',
      cluster: settings('postgres'),
      id: d.snapshotId,
      into: target,
      jobs: format === 'directory' ? 2 : undefined,
    });
    assert.equal(r.errorCount, 0);
    assert.deepEqual(await fingerprints(cluster, target), await fingerprints(cluster, 'shop'));
    assert.deepEqual(await relations(cluster, target, 'sales'), await relations(cluster, 'shop', 'sales'));
  });
}

test('--list reads the stored TOC; meta records versions and options', async () => {
  const d = await dump({ repo, clusterName: 'main', cluster: settings('shop'), tables: ['sales.*'], excludeTables: ['sales.lines'] });
  const l = await listDump(repo, 'main', d.snapshotId);
  assert.equal(l.format, 'custom');
  assert.match(l.pgDumpVersion, /^\d+/);
  assert.deepEqual(l.options.tables, ['sales.*']);
  assert.deepEqual(l.options.excludeTables, ['sales.lines']);
  assert.equal(l.options.compressedBy, 'repository');
  const names = l.databases[0]!.entries.map((e) => `${e.type} ${e.schema}.${e.name}`);
  assert.ok(names.includes('TABLE sales.orders'));
  assert.ok(names.includes('TABLE DATA sales.orders'));
  assert.ok(names.includes('INDEX sales.orders_customer'));
  assert.ok(!names.some((n) => n.includes('lines') || n.includes('notes')), names.join('\n'));
  const latest = await listDump(repo, 'main', 'latest');
  assert.equal(latest.snapshotId, d.snapshotId);
});

test('one table restored into a fresh database: that table, its index and constraints, nothing else', async () => {
  const d = await dump({ repo, clusterName: 'main', cluster: settings('shop') });
  await cluster.exec('CREATE DATABASE one_table');
  const r = await restoreDump({
    repo,
    clusterName: 'main',
    cluster: settings('postgres'),
    id: d.snapshotId,
    into: 'one_table',
    tables: ['sales.orders'],
  });
  assert.equal(r.errorCount, 0);
  assert.deepEqual(await relations(cluster, 'one_table', 'sales'), ['orders:r', 'orders_customer:i', 'orders_id_seq:S', 'orders_pkey:i']);
  assert.deepEqual(await relations(cluster, 'one_table', 'public'), []);
  const [orig, copy] = [
    await fingerprints(cluster, 'shop'),
    await cluster.query(
      `SELECT count(*) || ':' || md5(string_agg(x::text, ',' ORDER BY x::text)) AS f FROM sales.orders x`,
      [],
      'one_table',
    ),
  ];
  assert.equal(copy[0].f, orig['sales.orders']);
  const check = await cluster.query(
    `SELECT conname FROM pg_constraint WHERE conrelid = 'sales.orders'::regclass ORDER BY 1`,
    [],
    'one_table',
  );
  assert.deepEqual(
    check.map((c: { conname: string }) => c.conname),
    ['orders_amount_check', 'orders_pkey'],
  );
  const next = await cluster.query(`SELECT nextval('sales.orders_id_seq')::int AS n`, [], 'one_table');
  assert.equal(next[0].n, 501);
  const comment = await cluster.query(`SELECT obj_description('sales.orders'::regclass) AS c`, [], 'one_table');
  assert.equal(comment[0].c, 'the orders');
});

test('restore stops at the first error and names the object; --continue-on-error counts', async () => {
  const d = await dump({ repo, clusterName: 'main', cluster: settings('shop') });
  await assert.rejects(
    restoreDump({ repo, clusterName: 'main', cluster: settings('postgres'), id: d.snapshotId, into: 'shop' }),
    (e: any) =>
      e.code === 'CONFLICT' &&
      /stopped at the first error/.test(e.message) &&
      /SCHEMA sales/.test(e.message) &&
      /already exists/.test(e.message),
  );
  const r = await restoreDump({
    repo,
    clusterName: 'main',
    cluster: settings('postgres'),
    id: d.snapshotId,
    into: 'shop',
    continueOnError: true,
  });
  assert.ok(r.errorCount >= 5, `errors: ${r.errorCount}`);
  assert.ok(r.parts[0]!.errors.some((e) => e.object === 'TABLE sales.orders' && /already exists/.test(e.message)));
  // Nothing was doubled.
  assert.deepEqual((await fingerprints(cluster, 'shop'))['sales.orders']!.split(':')[0], '500');
});

test('--create recreates the dumped database under its own name', async () => {
  await cluster.exec('CREATE DATABASE solo');
  await cluster.exec('CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, g::text FROM generate_series(1, 50) g', 'solo');
  const d = await dump({ repo, clusterName: 'main', cluster: settings('solo') });
  await cluster.exec('DROP DATABASE solo');
  await restoreDump({ repo, clusterName: 'main', cluster: settings('postgres'), id: d.snapshotId, create: true });
  assert.deepEqual(await cluster.query('SELECT count(*)::int AS n, sum(id)::int AS s FROM t', [], 'solo'), [{ n: 50, s: 1275 }]);
});

test('--all: roles, databases, ownership and grants come back', async () => {
  await cluster.exec(`CREATE ROLE alice LOGIN PASSWORD 'secret-a'; CREATE ROLE bob NOLOGIN`);
  await cluster.exec('CREATE DATABASE app OWNER alice');
  await cluster.exec(
    `CREATE TABLE items (id int PRIMARY KEY, name text); ALTER TABLE items OWNER TO alice;
    GRANT SELECT ON items TO bob; INSERT INTO items VALUES (1, 'one'), (2, 'two')`,
    'app',
  );
  const d = await dump({ repo, clusterName: 'main', cluster: settings('postgres'), all: true });
  assert.equal(d.scope, 'all');
  assert.ok(d.databases.some((x) => x.name === 'app') && d.databases.some((x) => x.name === 'postgres'));
  assert.equal(d.globals?.noRolePasswords, false);
  // Make the cluster forget them, then restore everything.
  for (const db of d.databases.map((x) => x.name).filter((x) => x !== 'postgres' && x !== 'template1'))
    await cluster.exec(`DROP DATABASE "${db}"`);
  await cluster.exec('DROP ROLE alice; DROP ROLE bob');
  const r = await restoreDump({
    repo,
    clusterName: 'main',
    cluster: settings('postgres'),
    id: d.snapshotId,
    all: true,
    continueOnError: false,
  });
  assert.ok(r.parts[0]!.name === 'globals' && r.parts[0]!.ignored.some((t) => /role "postgres" already exists/.test(t)));
  const owner = await cluster.query(`SELECT pg_get_userbyid(datdba) AS o FROM pg_database WHERE datname = 'app'`);
  assert.deepEqual(owner, [{ o: 'alice' }]);
  assert.deepEqual(await cluster.query('SELECT tableowner FROM pg_tables WHERE tablename = $1', ['items'], 'app'), [
    { tableowner: 'alice' },
  ]);
  assert.deepEqual(await cluster.query(`SELECT has_table_privilege('bob', 'items', 'SELECT') AS s`, [], 'app'), [{ s: true }]);
  assert.deepEqual(await cluster.query('SELECT count(*)::int AS n FROM items', [], 'app'), [{ n: 2 }]);
  assert.deepEqual(await fingerprints(cluster, 'shop'), await fingerprints(cluster, 'copy_custom'));
  const pw = await cluster.query(`SELECT rolpassword IS NOT NULL AS has FROM pg_authid WHERE rolname = 'alice'`);
  assert.deepEqual(pw, [{ has: true }]);
});

test('errors: missing table, unknown snapshot id, physical options misuse', async () => {
  await assert.rejects(
    dump({ repo, clusterName: 'main', cluster: settings('shop'), tables: ['sales.nope'] }),
    (e: any) => e.code === 'NOT_FOUND' && /no matching tables/.test(e.message),
  );
  await assert.rejects(
    restoreDump({ repo, clusterName: 'main', cluster: settings('postgres'), id: '20200101T000000Z-0000', into: 'x' }),
    (e: any) => e.code === 'NOT_FOUND',
  );
  const d = await dump({ repo, clusterName: 'main', cluster: settings('shop') });
  await assert.rejects(
    restoreDump({ repo, clusterName: 'main', cluster: settings('postgres'), id: d.snapshotId, into: 'one_table', tables: ['nope'] }),
    (e: any) => e.code === 'NOT_FOUND' && /nope/.test(e.message),
  );
  await assert.rejects(
    restoreDump({ repo, clusterName: 'main', cluster: settings('postgres'), id: d.snapshotId }),
    (e: any) => e.code === 'USAGE',
  );
  await assert.rejects(dump({ repo, clusterName: 'main', cluster: settings('shop'), jobs: 2 }), (e: any) => e.code === 'USAGE');
  // A failed dump leaves no snapshot behind.
  const before = (await repo.listSnapshotIds('main')).length;
  await assert.rejects(dump({ repo, clusterName: 'main', cluster: settings('shop'), schemas: ['nope'] }));
  assert.equal((await repo.listSnapshotIds('main')).length, before);
});

const BIN = resolve(fileURLToPath(import.meta.url), '../../../bin/pgkeep.js');

function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((res, rej) => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir };
    if (process.env.PGKEEP_PG_BIN) env.PGKEEP_PG_BIN = process.env.PGKEEP_PG_BIN;
    const child = spawn(process.execPath, [BIN, '--repo', join(dir, 'repo'), '-d', cluster.connectionString('postgres'), ...args], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code, out }));
  });
}

test('a failing pg_restore is a failure every time (big TOC onto a conflicting object); a missing database is NOT_FOUND', async () => {
  // pg_restore reads the whole TOC from stdin and exits while the archive still streams in;
  // this used to end with no output and exit 0 in some runs (issue 9, item 6).
  await cluster.exec('CREATE DATABASE big_toc');
  await cluster.exec(
    `DO $$ BEGIN FOR i IN 1..800 LOOP
    EXECUTE format('CREATE TABLE t%s (id int, v text); INSERT INTO t%s VALUES (1, %L)', i, i, repeat('x', 100));
  END LOOP; END $$`,
    'big_toc',
  );
  const d = await dump({ repo, clusterName: 'main', cluster: settings('big_toc') });
  assert.ok(d.databases[0]!.entries! >= 1600, `${d.databases[0]!.entries} entries`);
  for (let i = 0; i < 3; i++) {
    const missing = await cli(['restore-dump', d.snapshotId, '--into', 'no_such_db']);
    assert.equal(missing.code, 8, missing.out); // NOT_FOUND, checked before pg_restore runs (issue 10, item 11)
    assert.match(missing.out, /database no_such_db does not exist/);
    const conflict = await cli(['restore-dump', d.snapshotId, '--into', 'big_toc']);
    assert.equal(conflict.code, 11, conflict.out);
    assert.match(conflict.out, /already exists/);
  }
  await cluster.exec('DROP DATABASE big_toc');
});

test('--table of a partitioned table brings every partition (all levels, other schemas) with its rows, indexes and identity', async () => {
  await cluster.exec('CREATE DATABASE parts');
  await cluster.exec(PARTS, 'parts');
  const before = await partitionFacts(cluster, 'parts');
  assert.equal(before.rows['archive.events_2024'], 1098);
  const d = await dump({ repo, clusterName: 'main', cluster: settings('parts') });
  await cluster.exec('DROP TABLE sales.events; DROP SCHEMA archive', 'parts');
  const r = await restoreDump({
    repo,
    clusterName: 'main',
    cluster: settings('postgres'),
    id: d.snapshotId,
    into: 'parts',
    tables: ['sales.events'],
  });
  assert.equal(r.errorCount, 0);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(await partitionFacts(cluster, 'parts'), before);
  assert.deepEqual(await cluster.query(`SELECT count(*)::int AS n, sum(amount)::int AS s FROM sales.events`, [], 'parts'), [
    { n: 3000, s: 4501500 },
  ]);
  // The identity sequence comes back with its value.
  assert.deepEqual(await cluster.query(`INSERT INTO sales.events (at, kind) VALUES ('2026-05-05', 'a') RETURNING id::int`, [], 'parts'), [
    { id: 3001 },
  ]);

  // Into a fresh database too: schemas of partitions elsewhere are created.
  await cluster.exec('CREATE DATABASE parts_copy');
  await restoreDump({
    repo,
    clusterName: 'main',
    cluster: settings('postgres'),
    id: d.snapshotId,
    into: 'parts_copy',
    tables: ['sales.events'],
  });
  const copy = await partitionFacts(cluster, 'parts_copy');
  assert.deepEqual(copy.rows, Object.fromEntries(Object.entries(before.rows).filter(([k]) => /events/.test(k))));
});

test('--table of an inheritance parent brings its children and their rows; a child with a parent left out is refused', async () => {
  const d = await dump({ repo, clusterName: 'main', cluster: settings('parts') });
  await cluster.exec('CREATE DATABASE inh_copy');
  await assert.rejects(
    restoreDump({ repo, clusterName: 'main', cluster: settings('postgres'), id: d.snapshotId, into: 'inh_copy', tables: ['sales.stock'] }),
    (e: any) => e.code === 'UNSUPPORTED' && /tagged_stock/.test(e.message) && /sales\.tags/.test(e.message),
  );
  assert.deepEqual(await relations(cluster, 'inh_copy', 'sales'), [], 'nothing restored when refused');
  const r = await restoreDump({
    repo,
    clusterName: 'main',
    cluster: settings('postgres'),
    id: d.snapshotId,
    into: 'inh_copy',
    tables: ['sales.stock', 'sales.tags'],
  });
  assert.equal(r.errorCount, 0);
  const rows = (await partitionFacts(cluster, 'inh_copy')).rows;
  assert.deepEqual(rows, { 'sales.stock': 2, 'sales.stock_old': 1, 'sales.tagged_stock': 1, 'sales.tags': 0 });
  assert.deepEqual(await cluster.query(`SELECT count(*)::int AS n FROM sales.stock`, [], 'inh_copy'), [{ n: 4 }]);
  assert.deepEqual(await cluster.query(`SELECT nextval('sales.stock_id_seq')::int AS n`, [], 'inh_copy'), [{ n: 5 }]);
});

/** What pg_dumpall keeps of a database beyond its objects: settings, owner, limit, grants, comment. */

test('--all keeps template1, postgres and user templates: contents and database-level settings; never template0', async () => {
  for (const { datname } of await cluster.query(
    `SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')`,
  )) {
    await cluster.exec(`DROP DATABASE "${datname}"`);
  }
  await cluster.exec('CREATE ROLE carol LOGIN; CREATE ROLE dave');
  await cluster.exec(`ALTER DATABASE template1 SET work_mem = '7MB'; COMMENT ON DATABASE template1 IS 'for every new database';
    GRANT CREATE ON DATABASE template1 TO dave; ALTER DATABASE postgres SET search_path = audit, public;
    ALTER ROLE carol IN DATABASE postgres SET work_mem = '3MB'`);
  await cluster.exec(
    `CREATE SCHEMA audit; CREATE TABLE audit.log (id int PRIMARY KEY, what text); INSERT INTO audit.log VALUES (42, 'kept');
    CREATE FUNCTION audit.answer() RETURNS int LANGUAGE sql AS 'SELECT 42'`,
    'template1',
  );
  await cluster.exec(`CREATE TABLE kept_in_postgres (v int); INSERT INTO kept_in_postgres VALUES (1), (2)`);
  await cluster.exec('CREATE DATABASE shop2 OWNER carol CONNECTION LIMIT 7');
  await cluster.exec(`ALTER DATABASE shop2 SET statement_timeout = '5s'; COMMENT ON DATABASE shop2 IS 'the shop';
    REVOKE CONNECT ON DATABASE shop2 FROM PUBLIC; GRANT CONNECT ON DATABASE shop2 TO dave; ALTER ROLE dave IN DATABASE shop2 SET work_mem = '9MB'`);
  await cluster.exec('CREATE DATABASE tmpl_user IS_TEMPLATE true');
  await cluster.exec("CREATE TABLE starter (v text); INSERT INTO starter VALUES ('hello')", 'tmpl_user');
  const facts = async () => ({
    template1: await databaseFacts(cluster, 'template1'),
    postgres: await databaseFacts(cluster, 'postgres'),
    shop2: await databaseFacts(cluster, 'shop2'),
    tmpl_user: await databaseFacts(cluster, 'tmpl_user'),
  });
  const before = await facts();

  const d = await dump({ repo, clusterName: 'main', cluster: settings('postgres'), all: true });
  assert.deepEqual(
    d.databases.map((x) => x.name),
    ['template1', 'postgres', 'shop2', 'tmpl_user'],
  );
  const plain = await dump({ repo, clusterName: 'main', cluster: settings('postgres'), all: true, format: 'plain' });

  // Back to a fresh cluster's state: default template1 and postgres, no other database.
  const reset = async () => {
    await cluster.exec(`ALTER DATABASE tmpl_user IS_TEMPLATE false`);
    await cluster.exec('DROP DATABASE tmpl_user');
    await cluster.exec('DROP DATABASE shop2');
    await cluster.exec(`ALTER DATABASE template1 RESET ALL; COMMENT ON DATABASE template1 IS NULL; REVOKE CREATE ON DATABASE template1 FROM dave;
      ALTER DATABASE postgres RESET ALL; ALTER ROLE carol IN DATABASE postgres RESET ALL; DROP TABLE kept_in_postgres`);
    await cluster.exec('DROP SCHEMA audit CASCADE', 'template1');
  };
  const contents = async () => {
    assert.deepEqual(await cluster.query('SELECT id, what, audit.answer() AS a FROM audit.log', [], 'template1'), [
      { id: 42, what: 'kept', a: 42 },
    ]);
    assert.deepEqual(await cluster.query('SELECT sum(v)::int AS s FROM kept_in_postgres'), [{ s: 3 }]);
    assert.deepEqual(await cluster.query('SELECT v FROM starter', [], 'tmpl_user'), [{ v: 'hello' }]);
  };
  await reset();
  const r = await restoreDump({ repo, clusterName: 'main', cluster: settings('postgres'), id: d.snapshotId, all: true });
  assert.equal(r.errorCount, 0);
  assert.deepEqual(await facts(), before);
  await contents();
  // A database created now gets template1's objects, as on the source.
  await cluster.exec('CREATE DATABASE from_template1');
  assert.deepEqual(await cluster.query('SELECT count(*)::int AS n FROM audit.log', [], 'from_template1'), [{ n: 1 }]);
  await cluster.exec('DROP DATABASE from_template1');

  // Plain SQL: template1 and postgres are replayed into the ones there (as pg_dumpall does), the
  // others created with their properties.
  await reset();
  const p = await restoreDump({ repo, clusterName: 'main', cluster: settings('postgres'), id: plain.snapshotId, all: true });
  assert.equal(p.errorCount, 0);
  await contents();
  assert.deepEqual(await databaseFacts(cluster, 'shop2'), before.shop2);

  await reset();
});
