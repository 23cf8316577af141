// inspect against a real cluster with known objects: two databases, a schema, a table with
// known columns/defaults/NOT NULL, a view, a materialized view, a sequence, a function, an
// index and roles.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PgkeepError } from '../errors.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { inspectCluster } from './index.js';
import { renderInspect } from '../cli/commands/inspect.js';

const execFileP = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/pgkeep.js', import.meta.url));

let cluster: LocalCluster;
let home: string;

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'pgkeep-inspect-test-'));
  cluster = await LocalCluster.create();
  await cluster.start();
  await cluster.exec(`
    CREATE ROLE alice LOGIN CREATEDB;
    CREATE ROLE repl LOGIN REPLICATION CONNECTION LIMIT 3;
    CREATE ROLE readers NOLOGIN;
    GRANT readers TO alice;`);
  await cluster.exec('CREATE DATABASE shop OWNER alice');
  await cluster.exec('CREATE DATABASE secret');
  await cluster.exec('REVOKE CONNECT ON DATABASE secret FROM PUBLIC');
  await cluster.exec(
    `
    CREATE SCHEMA sales AUTHORIZATION alice;
    CREATE TABLE sales.orders (
      id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      customer text NOT NULL,
      amount   numeric(10,2) NOT NULL DEFAULT 0,
      note     varchar(40),
      created  timestamptz DEFAULT now()
    );
    CREATE INDEX orders_customer_idx ON sales.orders (customer);
    INSERT INTO sales.orders (customer, amount, note)
      SELECT 'c' || (i % 7), i * 1.5, repeat('x', i % 30) FROM generate_series(1, 250) i;
    CREATE VIEW sales.big_orders AS SELECT * FROM sales.orders WHERE amount > 100;
    CREATE MATERIALIZED VIEW sales.totals AS SELECT customer, sum(amount) AS total FROM sales.orders GROUP BY customer;
    CREATE SEQUENCE sales.invoice_seq START 1000 INCREMENT 10;
    SELECT nextval('sales.invoice_seq');
    CREATE FUNCTION sales.add_tax(amount numeric, rate numeric DEFAULT 0.2) RETURNS numeric
      LANGUAGE sql IMMUTABLE AS 'SELECT amount * (1 + rate)';
    ANALYZE;`,
    'shop',
  );
});

after(async () => {
  await cluster?.destroy();
  rmSync(home, { recursive: true, force: true });
});

test('inspect reports the server, settings, databases and roles', async () => {
  const r = await inspectCluster(cluster.connectionSettings());
  assert.equal(r.server.major, cluster.major);
  assert.match(r.server.systemIdentifier ?? '', /^\d{10,20}$/);
  assert.equal(r.server.dataDirectory, cluster.dataDir);
  assert.equal(r.server.isSuperuser, true);
  const setting = (n: string) => r.settings.find((s) => s.name === n);
  assert.equal(setting('wal_level')?.setting, 'replica');
  assert.equal(setting('wal_level')?.context, 'postmaster');
  assert.equal(setting('data_checksums')?.setting, 'on');
  assert.ok(setting('max_wal_senders'));
  assert.equal(r.server.systemIdentifier, (await cluster.controlData())['Database system identifier']);

  const shop = r.databases!.find((d) => d.name === 'shop')!;
  assert.equal(shop.owner, 'alice');
  assert.equal(shop.encoding, 'UTF8');
  assert.equal(shop.collate, 'C');
  assert.ok(shop.sizeBytes! > 1_000_000);
  assert.ok(r.databases!.find((d) => d.name === 'template1')?.isTemplate);

  const alice = r.roles!.find((x) => x.name === 'alice')!;
  assert.deepEqual([alice.login, alice.superuser, alice.replication, alice.createdb, alice.createrole], [true, false, false, true, false]);
  assert.deepEqual(alice.memberOf, ['readers']);
  const repl = r.roles!.find((x) => x.name === 'repl')!;
  assert.equal(repl.replication, true);
  assert.equal(repl.connectionLimit, 3);
  assert.equal(r.roles!.find((x) => x.name === 'readers')!.login, false);
  assert.ok(!r.roles!.some((x) => x.name.startsWith('pg_')), 'predefined roles are left out');

  // templates are skipped unless asked; every other database is read
  assert.deepEqual(r.objects!.map((o) => o.database).sort(), ['postgres', 'secret', 'shop']);
  assert.deepEqual(r.skipped!.map((s) => s.database).sort(), ['template0', 'template1']);
});

test('inspect lists the objects of a database', async () => {
  const r = await inspectCluster(cluster.connectionSettings(), { database: 'shop', explain: true });
  assert.equal(r.objects!.length, 1);
  const o = r.objects![0]!;
  assert.deepEqual(
    o.schemas.map((s) => [s.name, s.owner]),
    [
      ['public', 'pg_database_owner'],
      ['sales', 'alice'],
    ],
  );

  const orders = o.tables.find((t) => t.name === 'orders')!;
  assert.equal(orders.schema, 'sales');
  assert.equal(orders.kind, 'r');
  assert.equal(orders.estimatedRows, 250);
  assert.ok(orders.tableBytes > 0 && orders.indexBytes > 0);
  assert.ok(orders.totalBytes >= orders.tableBytes + orders.indexBytes);

  assert.deepEqual(
    o.views.map((v) => `${v.schema}.${v.name}`),
    ['sales.big_orders'],
  );
  assert.deepEqual(
    o.materializedViews.map((v) => [v.name, v.estimatedRows]),
    [['totals', 7]],
  );

  const inv = o.sequences.find((s) => s.name === 'invoice_seq')!;
  assert.deepEqual([inv.dataType, inv.start, inv.increment, inv.lastValue, inv.ownedBy], ['bigint', '1000', '10', '1000', null]);
  const idSeq = o.sequences.find((s) => s.name === 'orders_id_seq')!;
  assert.equal(idSeq.ownedBy, 'sales.orders.id');
  assert.equal(idSeq.lastValue, '250');

  assert.deepEqual(o.functions, [
    {
      schema: 'sales',
      name: 'add_tax',
      arguments: 'amount numeric, rate numeric',
      returns: 'numeric',
      kind: 'function',
      language: 'sql',
    },
  ]);
  const idx = o.indexes.filter((i) => i.table === 'orders').map((i) => [i.name, i.method, i.unique, i.primary]);
  assert.deepEqual(idx, [
    ['orders_customer_idx', 'btree', false, false],
    ['orders_pkey', 'btree', true, true],
  ]);
  assert.match(
    o.indexes.find((i) => i.name === 'orders_customer_idx')!.definition,
    /CREATE INDEX orders_customer_idx ON sales\.orders USING btree \(customer\)/,
  );

  assert.match(r.explain!.tables!.catalog, /pg_class relkind 'r'/);
  const text = renderInspect(r);
  assert.match(text, /from pg_class relkind 'r' \(table\)/);
  assert.match(text, /from pg_namespace/);
  assert.match(text, /sales\.orders\s+250\s/);
  assert.match(text, /sales\.add_tax\(amount numeric, rate numeric\)\s+numeric\s+function\s+sql/);
});

test('inspect --table shows the columns from pg_attribute, pg_type and pg_attrdef', async () => {
  const r = await inspectCluster(cluster.connectionSettings(), { database: 'shop', table: 'sales.orders' });
  assert.equal(r.databases, undefined);
  const t = r.table!;
  assert.deepEqual([t.database, t.schema, t.name, t.kind], ['shop', 'sales', 'orders', 'table']);
  assert.deepEqual(
    t.columns.map((c) => [c.name, c.type, c.notNull, c.default, c.identity]),
    [
      ['id', 'bigint', true, null, 'always'],
      ['customer', 'text', true, null, null],
      ['amount', 'numeric(10,2)', true, '0', null],
      ['note', 'character varying(40)', false, null, null],
      ['created', 'timestamp with time zone', false, 'now()', null],
    ],
  );
  assert.deepEqual(
    t.indexes.map((i) => i.name),
    ['orders_customer_idx', 'orders_pkey'],
  );
  assert.equal(t.relation?.estimatedRows, 250);
  const text = renderInspect(r);
  assert.match(text, /amount\s+numeric\(10,2\)\s+yes\s+0/);
  assert.match(text, /note\s+character varying\(40\)\s*\n/);

  await assert.rejects(
    inspectCluster(cluster.connectionSettings(), { database: 'shop', table: 'sales.nope' }),
    (e: unknown) => e instanceof PgkeepError && e.code === 'NOT_FOUND' && /no table "sales.nope" in database "shop"/.test(e.message),
  );
  await assert.rejects(
    inspectCluster(cluster.connectionSettings(), { database: 'nope' }),
    (e: unknown) => e instanceof PgkeepError && e.code === 'NOT_FOUND',
  );
});

test('inspect as an ordinary role skips what it may not see', async () => {
  const settings = { connection: cluster.connectionString('postgres', 'alice') };
  const r = await inspectCluster(settings);
  assert.equal(r.server.isSuperuser, false);
  assert.equal(r.server.dataDirectory, null);
  assert.ok(!r.settings.some((s) => s.name === 'data_directory'));
  assert.equal(r.databases!.find((d) => d.name === 'secret')!.canConnect, false);
  assert.equal(r.databases!.find((d) => d.name === 'secret')!.sizeBytes, null);
  assert.deepEqual(
    r.skipped!.find((s) => s.database === 'secret'),
    { database: 'secret', reason: 'no CONNECT privilege for this user' },
  );
  assert.ok(r.objects!.some((o) => o.database === 'shop'));
});

test('the CLI prints inspect as JSON and as text', async () => {
  const env = { ...process.env, HOME: home, PGKEEP_CONNECTION: cluster.connectionString('shop') };
  const json = await execFileP(process.execPath, [BIN, '--json', 'inspect', '--database', 'shop'], { env, cwd: home });
  const data = JSON.parse(json.stdout);
  assert.equal(data.objects[0].database, 'shop');
  assert.ok(data.objects[0].tables.some((t: { name: string }) => t.name === 'orders'));
  assert.equal(data.server.dataDirectory, cluster.dataDir);

  const text = await execFileP(process.execPath, [BIN, 'inspect', '--table', 'sales.orders', '--explain'], { env, cwd: home });
  assert.match(text.stdout, /Table sales\.orders in database shop/);
  assert.match(text.stdout, /from pg_attribute, pg_type/);

  const missing = await execFileP(process.execPath, [BIN, 'inspect', '--table', 'nope'], { env, cwd: home }).catch((e) => e);
  assert.equal(missing.code, 8);
  assert.match(missing.stderr, /no table "nope"/);
});
