/**
 * The data script of pg_restore cut into settings, tables and row batches: whatever the chunk
 * boundaries (one byte, a few, the whole), the rows of each table come out exactly, end lines
 * and values that look like them included, and anything that is not a setting is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyStreamEvents, copyTarget, UnexpectedStatement } from './copy-stream.js';

const ROWS_A = Array.from({ length: 50 }, (_, i) => `${i}\tx\\\\.\t\\.\\n\\.\t\\N`).join('\n') + '\n';
const SCRIPT = [
  '--',
  '-- PostgreSQL database dump',
  '--',
  '',
  '\\restrict AbC09',
  '',
  'SET statement_timeout = 0;',
  "SET client_encoding = 'UTF8';",
  "SELECT pg_catalog.set_config('search_path', '', false);",
  '',
  '--',
  '-- Data for Name: a; Type: TABLE DATA; Schema: public; Owner: postgres',
  '--',
  '',
  'COPY public.a (id, t, u, v) FROM stdin;',
  ROWS_A + '\\.',
  '',
  '',
  'COPY "S"."e mpty" FROM stdin;',
  '\\.',
  '',
  'COPY public.b (id) FROM stdin;',
  '1\n2\n3\n\\.',
  '',
  '--',
  '-- PostgreSQL database dump complete',
  '--',
  '',
  '\\unrestrict AbC09',
  '',
].join('\n');

async function collect(chunks: Buffer[], batch = 64) {
  const out: { settings: string[]; tables: { table: string; sql: string; rows: string; batches: number }[] } = { settings: [], tables: [] };
  for await (const ev of copyStreamEvents(chunks, batch)) {
    if (ev.kind === 'setting') out.settings.push(ev.sql);
    else if (ev.kind === 'start') out.tables.push({ table: ev.table, sql: ev.sql, rows: '', batches: 0 });
    else if (ev.kind === 'rows') {
      const t = out.tables.at(-1)!;
      const text = Buffer.concat(ev.data).toString();
      assert.equal(ev.bytes, Buffer.byteLength(text));
      t.rows += text;
      t.batches++;
      assert.ok(text.endsWith('\n'), 'a batch ends at a row end');
    }
  }
  return out;
}

function split(s: string, size: number): Buffer[] {
  const b = Buffer.from(s);
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

test('rows of every table come out whole, whatever the chunk size', async () => {
  for (const size of [1, 2, 3, 7, 64, 1000, 1 << 20]) {
    const r = await collect(split(SCRIPT, size));
    assert.deepEqual(r.settings, [
      'SET statement_timeout = 0;',
      "SET client_encoding = 'UTF8';",
      "SELECT pg_catalog.set_config('search_path', '', false);",
    ]);
    assert.deepEqual(
      r.tables.map((t) => [t.table, t.rows]),
      [
        ['public.a', ROWS_A],
        ['"S"."e mpty"', ''],
        ['public.b', '1\n2\n3\n'],
      ],
      `chunk size ${size}`,
    );
    assert.equal(r.tables[0]!.sql, 'COPY public.a (id, t, u, v) FROM stdin;');
    if (size < 100) assert.ok(r.tables[0]!.batches > 1, 'a big table comes in several batches');
  }
});

test('a statement other than a setting, or a script cut inside the rows, is an error', async () => {
  await assert.rejects(collect(split(SCRIPT.replace('SET statement_timeout = 0;', 'INSERT INTO a VALUES (1);'), 5)), UnexpectedStatement);
  await assert.rejects(collect(split(SCRIPT.slice(0, SCRIPT.indexOf('\\.')), 5)), /ended inside the rows of public\.a/);
});

test('copyTarget reads the table of a COPY line only', () => {
  assert.equal(copyTarget('COPY public.a (id, "x y") FROM stdin;'), 'public.a');
  assert.equal(copyTarget('COPY "we ird"."t(" FROM stdin;'), '"we ird"."t("');
  assert.equal(copyTarget('SET x = 1;'), undefined);
});

test('a table named with non-ASCII bytes in a client encoding other than UTF8 is refused, never passed on mangled', async () => {
  // pg_restore writes the script in the dump's encoding: "café" in LATIN1 is the byte 0xE9, not UTF-8
  const latin1 = (s: string) => [Buffer.from(s, 'latin1')];
  const script = (enc: string, table: string) => `SET client_encoding = '${enc}';\nCOPY public.${table} (id) FROM stdin;\n1\n\\.\n`;
  await assert.rejects(collect(latin1(script('LATIN1', 'café'))), /client encoding LATIN1/);
  await assert.rejects(collect(latin1(script('SQL_ASCII', 'café'))), /client encoding SQL_ASCII/);
  const ascii = await collect(latin1(script('LATIN1', 'cafe')));
  assert.equal(ascii.tables[0]!.rows, '1\n');
  const utf8 = await collect([Buffer.from(script('UTF8', 'café'))]);
  assert.equal(utf8.tables[0]!.table, 'public.café');
});
