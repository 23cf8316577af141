/**
 * restore-dump with several jobs, on a real server: the rows of every table (one big enough to be
 * split over several COPY sessions, one with every awkward text value), indexes, constraints,
 * sequences, a materialized view and a large object come back as they were dumped; a failing
 * table is loaded whole or not at all; a --jobs the server cannot serve is refused up front.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '../pg/local-cluster.js';
import { faultTest } from '../test-support/faults.js';
import { initRepository, type Repository } from '../repo/index.js';
import { dump } from './dump/index.js';
import { restoreDump, type RestoreDumpOptions } from './restore/index.js';
import { fingerprints } from './test-dump-restore.js';

let cluster: LocalCluster;
let dir: string;
let repo: Repository & { closeAll(): Promise<void> };
let snapshotId: string;
let srcFacts: Record<string, string>;

const DB = `
  CREATE TABLE big (id bigint PRIMARY KEY, k int NOT NULL, note text, payload jsonb);
  CREATE INDEX big_k ON big (k);
  INSERT INTO big SELECT g, g % 977, md5(g::text) || ' ' || md5((g * 7)::text),
    jsonb_build_object('g', g, 's', md5((g * 3)::text)) FROM generate_series(1, 40000) g;
  CREATE TABLE odd (id serial PRIMARY KEY, t text, b bytea);
  INSERT INTO odd (t, b) VALUES (E'\\\\.', NULL), (E'a\\nb\\r\\tc', '\\x00'), (E'\\\\', ''), ('ä ✓ "q"', '\\x5c2e0a'),
    (NULL, NULL), ('', '\\xff'), (E'\\\\.\\n\\\\.', NULL);
  CREATE TABLE empty (id int);
  CREATE TABLE child (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, big_id bigint REFERENCES big (id), q int);
  INSERT INTO child (big_id, q) SELECT 1 + g % 40000, g FROM generate_series(1, 3000) g;
  CREATE TABLE ev (at date NOT NULL, v int) PARTITION BY RANGE (at);
  CREATE TABLE ev_1 PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  CREATE TABLE ev_2 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
  CREATE INDEX ev_v ON ev (v);
  INSERT INTO ev SELECT date '2025-01-01' + g % 700, g FROM generate_series(1, 5000) g;
  CREATE MATERIALIZED VIEW big_per_k AS SELECT k, count(*) AS n FROM big GROUP BY k;
  SELECT lo_from_bytea(424242, 'a large object');
  CREATE MATERIALIZED VIEW build_memory AS SELECT pg_size_bytes(current_setting('maintenance_work_mem')) AS bytes;
`;
const TABLES = ['big', 'odd', 'empty', 'child', 'ev_1', 'ev_2', 'big_per_k'];

/** Row count and md5 of every row's text, per table; index and constraint names; sequence positions; the large object. */
async function facts(db: string): Promise<Record<string, string>> {
  const out = await fingerprints(cluster, db, TABLES);
  const q = async (sql: string) => (await cluster.query(sql, [], db)).map((r: { x: string }) => r.x).join(',');
  out.indexes = await q(`SELECT indexname AS x FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`);
  out.constraints = await q(
    `SELECT conname || ':' || contype::text AS x FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1`,
  );
  out.sequences = await q(`SELECT sequencename || ':' || coalesce(last_value, 0) AS x FROM pg_sequences ORDER BY 1`);
  out.lo = await q(`SELECT encode(lo_get(oid), 'escape') AS x FROM pg_largeobject_metadata ORDER BY oid`);
  return out;
}

function restore(o: Partial<RestoreDumpOptions>) {
  return restoreDump({ repo, clusterName: 'main', cluster: cluster.connectionSettings('postgres'), id: snapshotId, ...o });
}

before(async () => {
  cluster = await LocalCluster.create();
  await cluster.start();
  dir = mkdtempSync(join(tmpdir(), 'pgkeep-plrestore-test-'));
  repo = await initRepository({ path: join(dir, 'repo') }, { compression: 'zstd:1' });
  await cluster.exec('CREATE DATABASE src');
  await cluster.exec(DB, 'src');
  srcFacts = await facts('src');
  snapshotId = (await dump({ repo, clusterName: 'main', cluster: cluster.connectionSettings('src') })).snapshotId;
});

after(async () => {
  await repo?.closeAll().catch(() => {});
  await cluster?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('--jobs 2 into a fresh database: every row, index, constraint, sequence and large object as dumped', async () => {
  await cluster.exec('CREATE DATABASE par2');
  const r = await restore({ into: 'par2', jobs: 2 });
  assert.equal(r.errorCount, 0, JSON.stringify(r.parts[0]?.errors));
  assert.equal(r.jobs, 2);
  assert.deepEqual(await facts('par2'), srcFacts);
  // The big table was loaded by more than one session (its rows are not in id order on disk).
  const [o] = await cluster.query(
    `SELECT count(*)::int AS n FROM (SELECT id < lag(id) OVER (ORDER BY ctid) AS back FROM big) x WHERE back`,
    [],
    'par2',
  );
  assert.ok(o.n > 0, 'big was loaded by one session only');
  // Post-data (index builds, materialized views) ran with more maintenance_work_mem than the server's 64MB.
  const [m] = await cluster.query(`SELECT bytes::bigint AS b FROM build_memory`, [], 'par2');
  assert.ok(Number(m.b) >= 128 * 1024 * 1024, `maintenance_work_mem of the post-data sessions: ${m.b}`);
});

test('no --jobs: several jobs by default (cores of this machine, at most 4), same data', async () => {
  await cluster.exec('CREATE DATABASE dflt');
  const r = await restore({ into: 'dflt' });
  assert.equal(r.errorCount, 0, JSON.stringify(r.parts[0]?.errors));
  assert.ok(r.jobs > 1, `jobs ${r.jobs}`);
  assert.deepEqual(await facts('dflt'), srcFacts);
});

test('--jobs 2 with --table: that table, its rows and indexes, nothing else', async () => {
  await cluster.exec('CREATE DATABASE part');
  const r = await restore({ into: 'part', jobs: 2, tables: ['big'] });
  assert.equal(r.errorCount, 0, JSON.stringify(r.parts[0]?.errors));
  const [b] = await cluster.query(`SELECT count(*) || ':' || md5(string_agg(x::text, ',' ORDER BY x::text)) AS f FROM big x`, [], 'part');
  assert.equal(b.f, srcFacts.big);
  const rels = await cluster.query(`SELECT relname AS x FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1`, [], 'part');
  assert.deepEqual(
    rels.map((x: { x: string }) => x.x),
    ['big', 'big_k', 'big_pkey'],
  );
});

test('--jobs 2 --table odd: its sequence is set from the table of contents; the archive is read once for its rows', async () => {
  await cluster.exec('CREATE DATABASE seqs');
  const reads: string[] = [];
  const readFile = repo.readFile;
  repo.readFile = function (this: Repository, ...a: Parameters<Repository['readFile']>) {
    reads.push(typeof a[1] === 'string' ? a[1] : a[1].path);
    return readFile.apply(this, a);
  };
  try {
    const r = await restore({ into: 'seqs', jobs: 2, tables: ['odd', 'odd_id_seq'] });
    assert.equal(r.errorCount, 0, JSON.stringify(r.parts[0]?.errors));
  } finally {
    repo.readFile = readFile;
  }
  const [seq] = await cluster.query(`SELECT last_value::text AS v FROM odd_id_seq`, [], 'seqs');
  assert.equal(seq.v, '7');
  const got = await fingerprints(cluster, 'seqs', ['odd']);
  assert.equal(got.odd, srcFacts.odd);
  // pre-data reads the head of the archive, the rows read it whole; the sequence value needs no third pass
  assert.equal(reads.length, 2, reads.join(', '));
});

test('--jobs 3 --clean into a database holding other rows: replaced by the dumped ones', async () => {
  await cluster.exec('CREATE DATABASE cleaned');
  await cluster.exec(`CREATE TABLE big (id bigint PRIMARY KEY, k int); INSERT INTO big VALUES (-1, 0)`, 'cleaned');
  const r = await restore({ into: 'cleaned', jobs: 3, clean: true });
  assert.equal(r.errorCount, 0, JSON.stringify(r.parts[0]?.errors));
  assert.deepEqual(await facts('cleaned'), srcFacts);
});

test('a table whose rows fail is loaded whole or not at all, the others in full (--continue-on-error)', async () => {
  await cluster.exec('CREATE DATABASE clash');
  await cluster.exec(
    `CREATE TABLE big (id bigint PRIMARY KEY, k int NOT NULL, note text, payload jsonb); INSERT INTO big VALUES (39999, 0, 'mine', NULL)`,
    'clash',
  );
  const r = await restore({ into: 'clash', jobs: 2, continueOnError: true });
  const failed = r.parts[0]!.errors.filter((e) => e.object === 'TABLE DATA public.big');
  assert.equal(failed.length, 1, JSON.stringify(r.parts[0]!.errors));
  assert.match(failed[0]!.message, /duplicate key/);
  const rows = await cluster.query(`SELECT id, note FROM big`, [], 'clash');
  assert.deepEqual(rows, [{ id: '39999', note: 'mine' }]);
  const [src, got] = [srcFacts, await facts('clash')];
  for (const t of ['odd', 'ev_1', 'ev_2', 'empty']) assert.equal(got[t], src[t], t);
});

faultTest(
  'a session of a parallel load killed mid-table: that table has none of its rows, the error names it, the others are whole',
  async () => {
    await cluster.exec('CREATE DATABASE killed');
    // The table is there before the restore, with a trigger that stalls one row's session, so
    // that session can be terminated while the other sessions go on loading their parts.
    await cluster.exec(
      `CREATE TABLE big (id bigint PRIMARY KEY, k int NOT NULL, note text, payload jsonb);
     CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF NEW.id = 20000 THEN PERFORM pg_sleep(60); END IF; RETURN NEW; END $$;
     CREATE TRIGGER stall BEFORE INSERT ON big FOR EACH ROW EXECUTE FUNCTION stall();`,
      'killed',
    );
    const restoring = restore({ into: 'killed', jobs: 2, continueOnError: true });
    let killed = 0;
    for (let waited = 0; !killed && waited < 60_000; waited += 200) {
      await new Promise((r) => setTimeout(r, 200));
      const [k] = await cluster.query(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = 'killed' AND wait_event = 'PgSleep'`,
        [],
        'postgres',
      );
      killed = k.n;
    }
    assert.equal(killed, 1, 'the stalled session was never seen');
    const r = await restoring;
    // Only that table failed: the lost session took no rows of the tables after it.
    const failed = r.parts[0]!.errors.filter((e) => e.object?.startsWith('TABLE DATA'));
    assert.deepEqual(
      failed.map((e) => e.object),
      ['TABLE DATA public.big'],
      JSON.stringify(r.parts[0]!.errors),
    );
    assert.match(failed[0]!.text, /none of its rows were loaded/);
    const [n] = await cluster.query(`SELECT count(*)::int AS n FROM big`, [], 'killed');
    assert.equal(n.n, 0);
    const got = await facts('killed');
    for (const t of ['odd', 'child', 'ev_1', 'ev_2', 'empty']) assert.equal(got[t], srcFacts[t], t);
  },
);

test('--jobs more than the server can connect: refused before anything is restored', async () => {
  await cluster.exec('CREATE DATABASE toomany');
  await assert.rejects(
    restore({ into: 'toomany', jobs: 500 }),
    (e: any) => e.code === 'USAGE' && /--jobs 500/.test(e.message) && /max_connections/.test(e.message) && /--jobs \d+/.test(e.hint),
  );
  const rels = await cluster.query(`SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace`, [], 'toomany');
  assert.equal(rels[0].n, 0);
});
