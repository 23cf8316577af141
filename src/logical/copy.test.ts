import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { LocalCluster } from '../pg/local-cluster.js';
import { exportCopy } from './copy-export.js';
import { importCopy } from './copy-import.js';
import type { CopyFormat } from './copy-sql.js';

let cluster: LocalCluster;
let dir: string;

const DDL = `
  CREATE SCHEMA "Odd Schema";
  CREATE TABLE "Odd Schema"."My ""Table""" (
    id int PRIMARY KEY, t text, b bytea, j jsonb, n numeric, ts timestamptz, arr text[]
  );`;
const AWKWARD = `
  INSERT INTO "Odd Schema"."My ""Table""" VALUES
    (1, NULL, NULL, NULL, NULL, NULL, NULL),
    (2, '', '\\x'::bytea, '{}', 0, '2026-01-01 00:00:00+00', '{}'),
    (3, E'tab\\there, comma, "quote", \\'single\\'\\nnew line\\r\\nCRLF \\\\ backslash', '\\x00ff5c0a0d09'::bytea,
        '{"k": "v\\"q", "n": null}', -1.5e-10, 'infinity', ARRAY['a,b', NULL, '"', E'\\\\']),
    (4, 'ünïcødé ✓ 😀 中文', decode('e29c93', 'hex'), '[1, "two", null]', 12345678901234567890.123, '-infinity', ARRAY['']),
    (5, '\\N', '\\x5c4e'::bytea, '"\\\\N"', NULL, NULL, ARRAY['NULL']),
    (6, ',', NULL, NULL, NULL, NULL, NULL),
    (7, '"', NULL, NULL, NULL, NULL, NULL);
  INSERT INTO "Odd Schema"."My ""Table""" (id, t) SELECT g, md5(g::text) FROM generate_series(100, 2100) g;
`;
const TABLE = '"Odd Schema"."My ""Table"""';

async function fingerprint(db: string, table = TABLE): Promise<{ rows: number; md5: string }> {
  const r = await cluster.query(`SELECT count(*)::int AS rows, md5(string_agg(t::text, '|' ORDER BY id)) AS md5 FROM ${table} t`, [], db);
  return r[0];
}

before(async () => {
  cluster = await LocalCluster.create();
  await cluster.start();
  dir = mkdtempSync(join(tmpdir(), 'pgkeep-copy-test-'));
  await cluster.exec('CREATE DATABASE src');
  await cluster.exec('CREATE DATABASE dst');
  await cluster.exec(DDL + AWKWARD, 'src');
  await cluster.exec(DDL, 'dst');
});

after(async () => {
  await cluster?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const format of ['csv', 'text', 'binary'] as CopyFormat[]) {
  for (const header of format === 'binary' ? [false] : [false, true]) {
    test(`${format}${header ? ' with header' : ''}: export from one database, import into another, same rows`, async () => {
      const target = `t_${format}_${header ? 'h' : 'n'}`;
      await cluster.exec(`CREATE TABLE "Odd Schema"."${target}" (LIKE ${TABLE})`, 'dst');
      const file = join(dir, `${target}.${format}`);
      const ex = await exportCopy({ cluster: cluster.connectionSettings('src'), table: TABLE, format, header, to: file });
      assert.equal(ex.rows, 2008);
      assert.equal(ex.file, file);
      assert.equal(ex.bytes, readFileSync(file).length);
      if (header) assert.match(readFileSync(file, 'utf8').split('\n')[0]!, /^id[,\t]t[,\t]b/);
      const im = await importCopy({
        cluster: cluster.connectionSettings('dst'),
        table: `"Odd Schema".${target}`,
        format,
        header,
        from: file,
      });
      assert.equal(im.rows, 2008);
      assert.deepEqual(await fingerprint('dst', `"Odd Schema"."${target}"`), await fingerprint('src'));
      // NULL and the empty string stay apart.
      const nulls = await cluster.query(
        `SELECT id, t IS NULL AS null_t, t = '' AS empty_t FROM "Odd Schema"."${target}" WHERE id IN (1, 2) ORDER BY id`,
        [],
        'dst',
      );
      assert.deepEqual(nulls, [
        { id: 1, null_t: true, empty_t: null },
        { id: 2, null_t: false, empty_t: true },
      ]);
    });
  }
}

test('streams: a query exported to a stream, columns imported from a stream', async () => {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  const progress: number[] = [];
  const ex = await exportCopy({
    cluster: cluster.connectionSettings('src'),
    query: `SELECT id, t FROM ${TABLE} WHERE id < 10 ORDER BY id;`,
    format: 'text',
    to: sink,
    onProgress: (p) => progress.push(p.bytes),
  });
  assert.equal(ex.rows, 7);
  assert.equal(ex.file, undefined);
  assert.ok(progress.length >= 1 && progress[progress.length - 1] === ex.bytes);
  await cluster.exec("CREATE TABLE two_cols (id int, t text, extra text DEFAULT 'd')", 'dst');
  const src = new PassThrough();
  const p = importCopy({ cluster: cluster.connectionSettings('dst'), table: 'two_cols', columns: 'id, T', format: 'text', from: src });
  src.end(Buffer.concat(chunks));
  assert.equal((await p).rows, 7);
  const rows = await cluster.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE extra = 'd')::int AS d FROM two_cols`, [], 'dst');
  assert.deepEqual(rows, [{ n: 7, d: 7 }]);
});

test('a bad line imports nothing and the error names the line', async () => {
  await cluster.exec('CREATE TABLE strict_t (id int PRIMARY KEY, v text)', 'dst');
  const file = join(dir, 'bad.csv');
  writeFileSync(file, '1,a\n2,b\nthree,c\n4,d\n');
  await assert.rejects(
    importCopy({ cluster: cluster.connectionSettings('dst'), table: 'strict_t', format: 'csv', from: file }),
    (e: any) => e.code === 'USAGE' && /line 3/.test(e.message) && /nothing was imported/.test(e.message) && e.details.line === 3,
  );
  writeFileSync(file, '1,a\n1,b\n');
  await assert.rejects(
    importCopy({ cluster: cluster.connectionSettings('dst'), table: 'strict_t', format: 'csv', from: file }),
    (e: any) => e.code === 'CONFLICT' && /duplicate key/.test(e.message),
  );
  assert.deepEqual(await cluster.query('SELECT count(*)::int AS n FROM strict_t', [], 'dst'), [{ n: 0 }]);
});

test('errors: missing table (NOT_FOUND), missing input file, no half-written export file', async () => {
  await assert.rejects(
    exportCopy({ cluster: cluster.connectionSettings('src'), table: 'public.nope', format: 'csv', to: join(dir, 'nope.csv') }),
    (e: any) => e.code === 'NOT_FOUND' && /nope/.test(e.message),
  );
  assert.ok(!existsSync(join(dir, 'nope.csv')));
  assert.ok(!readdirSync(dir).some((f) => f.includes('.tmp')), 'no temporary file left behind');
  await assert.rejects(
    importCopy({ cluster: cluster.connectionSettings('dst'), table: 'strict_t', format: 'csv', from: join(dir, 'absent.csv') }),
    (e: any) => e.code === 'NOT_FOUND',
  );
  await assert.rejects(
    exportCopy({ cluster: cluster.connectionSettings('src'), table: 'a.b.c', format: 'csv', to: join(dir, 'x') }),
    (e: any) => e.code === 'USAGE',
  );
  await assert.rejects(
    exportCopy({ cluster: cluster.connectionSettings('src'), table: 't', query: 'select 1', format: 'csv', to: join(dir, 'x') }),
    (e: any) => e.code === 'USAGE',
  );
});

test('an export to stdout whose reader goes away is a failure, never exit 0', async () => {
  // `pgkeep copy export --to - | consumer` with a consumer that dies: the export did not finish.
  const bin = resolve(fileURLToPath(import.meta.url), '../../../bin/pgkeep.js');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir };
  const r = await new Promise<{ code: number | null; stderr: string }>((res, rej) => {
    const child = spawn(
      process.execPath,
      [
        bin,
        '-d',
        cluster.connectionString('src'),
        'copy',
        'export',
        '--query',
        'SELECT g, md5(g::text) FROM generate_series(1, 500000) g',
        '--to',
        '-',
      ],
      { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('error', rej);
    child.on('close', (code) => res({ code, stderr }));
  });
  assert.notEqual(r.code, 0, r.stderr);
  assert.match(r.stderr, /pgkeep: error: .*(closed|EPIPE)/);
});
