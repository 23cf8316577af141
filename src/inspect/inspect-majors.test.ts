// Every catalog query of inspect and doctor against a real PostgreSQL 13 server (the embedded 13
// binaries; 14 and 16-18 are covered by the per-major matrix): inspect of the whole cluster, of
// one database and of one table, doctor for every method as a superuser, and doctor as a
// non-superuser backup role whose advised GRANTs are run as printed and then make doctor pass.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { renderInspect } from '../cli/commands/inspect.js';
import { runDoctor, type DoctorReport } from '../doctor/index.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { inspectCluster } from './index.js';

const PG13 = fileURLToPath(new URL('../../node_modules/embedded-pg-13/native/bin', import.meta.url));

let cluster: LocalCluster;

before(async () => {
  cluster = await LocalCluster.create({ pgBin: PG13, settings: { wal_level: 'replica', autovacuum: false } });
  await cluster.start();
  await cluster.exec('CREATE ROLE bk LOGIN REPLICATION');
  await cluster.exec('CREATE DATABASE shop');
  await cluster.exec(
    `
    CREATE SCHEMA sales;
    CREATE TABLE sales.orders (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      amount numeric(10,2) NOT NULL DEFAULT 0,
      taxed numeric GENERATED ALWAYS AS (amount * 1.2) STORED
    );
    INSERT INTO sales.orders (amount) SELECT i FROM generate_series(1, 300) i;
    CREATE TABLE sales.fresh (id int);
    INSERT INTO sales.fresh SELECT generate_series(1, 5000);
    CREATE TABLE sales.events (at date, what text) PARTITION BY RANGE (at);
    CREATE TABLE sales.events_2026 PARTITION OF sales.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    CREATE MATERIALIZED VIEW sales.totals AS SELECT count(*) AS n FROM sales.orders;
    CREATE VIEW public.v AS SELECT 1 AS one;
    CREATE SEQUENCE public.counter START 7;
    SELECT nextval('public.counter');
    CREATE FUNCTION sales.tax(a numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT a * 0.2';
    ANALYZE sales.orders;`,
    'shop',
  );
});

after(async () => {
  await cluster?.destroy();
});

test('PostgreSQL 13: inspect reads the server, settings, databases, roles and every kind of object', async () => {
  assert.equal(cluster.major, 13);
  const r = await inspectCluster(cluster.connectionSettings(), { includeTemplates: true, explain: true });
  assert.equal(r.server.major, 13);
  assert.match(r.server.systemIdentifier ?? '', /^\d{10,20}$/);
  assert.equal(r.settings.find((s) => s.name === 'wal_keep_size')?.setting, '0');
  assert.equal(r.settings.find((s) => s.name === 'data_checksums')?.setting, 'on');
  assert.ok(r.databases!.some((d) => d.name === 'shop' && d.encoding === 'UTF8' && d.sizeBytes! > 0));
  // datlocprovider is 15+, daticulocale 15-16, datlocale 17+: before 15 every database is libc
  assert.deepEqual(
    r.databases!.map((d) => [d.localeProvider, d.locale]),
    r.databases!.map(() => ['libc', null]),
  );
  assert.ok(r.roles!.some((x) => x.name === 'bk' && x.login && x.replication && !x.superuser));

  const shop = r.objects!.find((o) => o.database === 'shop')!;
  const table = (name: string) => shop.tables.find((t) => t.name === name)!;
  assert.equal(table('orders').estimatedRows, 300);
  // before 14, reltuples = 0 with relpages = 0 meant "never vacuumed or analyzed", not "empty"
  assert.equal(table('fresh').estimatedRows, null, 'a table never analyzed on 13 has no row estimate (not 0)');
  assert.equal(table('events').kind, 'p');
  assert.equal(table('events_2026').isPartition, true);
  assert.deepEqual(
    shop.materializedViews.map((v) => v.name),
    ['totals'],
  );
  assert.deepEqual(
    shop.views.map((v) => v.name),
    ['v'],
  );
  assert.equal(shop.sequences.find((s) => s.name === 'counter')?.lastValue, '7');
  assert.equal(shop.sequences.find((s) => s.name === 'orders_id_seq')?.ownedBy, 'sales.orders.id');
  assert.deepEqual(
    shop.functions.map((f) => [f.name, f.arguments, f.returns]),
    [['tax', 'a numeric', 'numeric']],
  );
  assert.ok(shop.indexes.some((i) => i.name === 'orders_pkey' && i.primary));
  assert.match(renderInspect(r), /sales\.fresh\s+\?\s/);
});

test('PostgreSQL 13: inspect --table reads identity and generated columns', async () => {
  const r = await inspectCluster(cluster.connectionSettings(), { database: 'shop', table: 'sales.orders' });
  assert.deepEqual(
    r.table!.columns.map((c) => [c.name, c.type, c.notNull, c.identity, c.generated]),
    [
      ['id', 'bigint', true, 'always', false],
      ['amount', 'numeric(10,2)', true, null, false],
      ['taxed', 'numeric', false, null, true],
    ],
  );
  assert.equal(r.table!.relation?.estimatedRows, 300);
});

function get(report: DoctorReport, name: string) {
  const c = report.checks.find((x) => x.check === name);
  assert.ok(c, `doctor has a ${name} check: ${report.checks.map((x) => x.check).join(', ')}`);
  return c;
}

test('PostgreSQL 13: doctor as a superuser runs every check', async () => {
  const report = await runDoctor(cluster.connectionSettings('shop'));
  for (const name of [
    'reachable',
    'version',
    'wal_level',
    'data_checksums',
    'max_wal_senders',
    'max_replication_slots',
    'hba_replication',
    'role_replication',
    'backup_functions',
    'read_all_settings',
    'pgdata',
    'pg_dump',
    'pg_restore',
    'read_access',
  ]) {
    assert.equal(get(report, name).status, 'PASS', `${name}: ${get(report, name).message}`);
  }
  assert.match(get(report, 'version').message, /PostgreSQL 13\.\d+/);
  assert.match(get(report, 'backup_functions').message, /pg_start_backup\/pg_stop_backup/);
  assert.match(get(report, 'pg_dump').message, /version 1[5-9]/);
});

test('PostgreSQL 13: doctor as a backup role advises GRANTs that run on 13 and then pass', async () => {
  const settings = { connection: cluster.connectionString('shop', 'bk'), pgdata: cluster.dataDir };
  const before = await runDoctor(settings, { methods: ['local', 'logical'] });
  const failing = before.checks.filter((c) => c.status !== 'PASS');
  assert.deepEqual(failing.map((c) => c.check).sort(), ['backup_functions', 'read_access', 'read_all_settings']);
  assert.match(get(before, 'backup_functions').fix ?? '', /pg_start_backup\(text, boolean, boolean\)/);
  for (const c of failing) {
    const grants = (c.fix ?? '').match(/GRANT [^;]+;/g) ?? [];
    assert.ok(grants.length > 0, `${c.check} advises SQL: ${c.fix}`);
    assert.doesNotMatch(c.fix ?? '', /<\w+>/, `${c.check}: no placeholder left to fill in`);
    for (const sql of grants) await cluster.exec(sql, 'shop');
  }
  const after = await runDoctor(settings, { methods: ['local', 'logical'] });
  for (const name of ['backup_functions', 'read_all_settings', 'read_access', 'pgdata']) {
    assert.equal(get(after, name).status, 'PASS', `${name}: ${get(after, name).message}`);
  }
});
