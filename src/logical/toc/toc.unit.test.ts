import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  knowsDependencies,
  mergeVerbose,
  parseListLine,
  parseTocList,
  parseVerboseToc,
  selectTocEntries,
  writeTocList,
  type Toc,
} from './index.js';
import { TOC_LIST, TOC_VERBOSE } from './toc.fixtures.js';

function fullToc(): Toc {
  return mergeVerbose(parseTocList(TOC_LIST), parseVerboseToc(TOC_VERBOSE));
}

function names(toc: Toc, ids: number[]): string[] {
  const byId = new Map(toc.entries.map((e) => [e.dumpId, e]));
  return ids.map((id) => {
    const e = byId.get(id)!;
    return `${e.type}|${e.schema ?? '-'}|${e.name}`;
  });
}

test('header facts of pg_restore -l', () => {
  const { header, entries } = parseTocList(TOC_LIST);
  assert.equal(header.dbname, 'toc');
  assert.equal(header.entryCount, 42);
  assert.equal(header.format, 'CUSTOM');
  assert.equal(header.compression, '-1');
  assert.match(header.serverVersion!, /^15\.18 /);
  assert.match(header.pgDumpVersion!, /^15\.18 /);
  assert.equal(header.archiveCreated, '2026-11-24 06:57:36 UTC');
  assert.equal(entries.length, 38); // ENCODING, STDSTRINGS, SEARCHPATH, DATABASE are not listed
});

test('a TOC entry count that is not a number is left out, not stored as NaN (null in the meta, which the dump meta reader refuses)', () => {
  const { header } = parseTocList(TOC_LIST.replace(/^;\s+TOC Entries:.*$/m, ';     TOC Entries: many'));
  assert.equal(header.dbname, 'toc');
  assert.equal('entryCount' in header, false);
});

test('entry lines: multi-word types, schemas, names and owners', () => {
  const { entries } = parseTocList(TOC_LIST);
  const by = (id: number) => entries.find((e) => e.dumpId === id)!;
  assert.deepEqual(by(3425), {
    dumpId: 3425,
    tableOid: 0,
    oid: 16390,
    type: 'TABLE DATA',
    schema: 'sales',
    name: 'orders',
    owner: 'app_owner',
    deps: [],
  });
  assert.equal(by(3443).type, 'SEQUENCE OWNED BY');
  assert.equal(by(3276).type, 'FK CONSTRAINT');
  assert.equal(by(225).type, 'MATERIALIZED VIEW');
  assert.equal(by(3431).type, 'MATERIALIZED VIEW DATA');
  assert.equal(by(3422).type, 'ROW SECURITY');
  assert.equal(by(2).type, 'EXTENSION');
  assert.equal(by(2).schema, undefined);
  assert.equal(by(2).owner, '');
  assert.equal(by(3439).name, 'EXTENSION pgcrypto');
  assert.equal(by(7).name, 'sales');
  assert.equal(by(7).owner, 'app_owner');
  // Without hints, a name with spaces is split at the first and last space.
  assert.equal(by(222).schema, 'Weird');
});

test('hints resolve names with spaces in pg_restore -l lines', () => {
  const hints = { schemas: ['public', 'sales', 'Weird Schema'], owners: ['postgres', 'app_owner'] };
  const e = parseListLine('3429; 0 16417 TABLE DATA Weird Schema Mixed Table postgres', hints)!;
  assert.equal(e.schema, 'Weird Schema');
  assert.equal(e.name, 'Mixed Table');
  assert.equal(e.owner, 'postgres');
  const odd = parseListLine('3432; 0 16477 TABLE DATA public tab, with ; odd postgres', hints)!;
  assert.equal(odd.name, 'tab, with ; odd');
  assert.equal(parseListLine('; a comment'), undefined);
  assert.equal(parseListLine(''), undefined);
  assert.equal(parseListLine(';3425; 0 16390 TABLE DATA sales orders app_owner'), undefined);
});

test('verbose listing gives dependencies and exact fields', () => {
  const v = parseVerboseToc(TOC_VERBOSE);
  assert.deepEqual(v.get(3276)!.deps, [220, 218, 3271]);
  assert.equal(v.get(3276)!.type, 'FK CONSTRAINT');
  assert.equal(v.get(222)!.schema, 'Weird Schema');
  assert.equal(v.get(222)!.name, 'Mixed Table');
  assert.equal(v.get(226)!.name, 'tab, with ; odd');
  assert.deepEqual(v.get(224)!.deps, [218, 7]); // duplicates removed
  assert.equal(v.get(3425), undefined); // no data entries in a schema-only listing
});

test('merge fixes names and infers data dependencies', () => {
  const toc = fullToc();
  const by = (id: number) => toc.entries.find((e) => e.dumpId === id)!;
  assert.equal(by(222).schema, 'Weird Schema');
  assert.equal(by(222).name, 'Mixed Table');
  assert.equal(by(3429).schema, 'Weird Schema'); // TABLE DATA, matched by OID
  assert.equal(by(3429).name, 'Mixed Table');
  assert.deepEqual(by(3429).deps, [222]);
  assert.deepEqual(by(3446).deps, [217]); // SEQUENCE SET orders_id_seq, matched by fields
  assert.deepEqual(by(3444).deps, [223]);
  assert.deepEqual(by(3431).deps, [225, 3434]); // MATERIALIZED VIEW DATA is in the verbose listing
});

test('selecting one table brings its data, sequence, constraints, index, policy, comments, grant', () => {
  const toc = fullToc();
  const r = selectTocEntries(toc.entries, { tables: [{ schema: 'sales', name: 'orders' }] });
  assert.deepEqual(names(toc, r.ids).sort(), [
    'ACL|sales|TABLE orders',
    'COMMENT|sales|COLUMN orders.customer',
    'COMMENT|sales|TABLE orders',
    'CONSTRAINT|sales|orders orders_pkey',
    'DEFAULT|sales|orders id',
    'INDEX|sales|orders_customer',
    'POLICY|sales|orders p',
    'ROW SECURITY|sales|orders',
    'SEQUENCE OWNED BY|sales|orders_id_seq',
    'SEQUENCE SET|sales|orders_id_seq',
    'SEQUENCE|sales|orders_id_seq',
    'TABLE DATA|sales|orders',
    'TABLE|sales|orders',
  ]);
  assert.deepEqual(r.unmatched, []);
  // Its trigger needs a function that is not restored: left out and reported.
  assert.deepEqual(
    r.skipped.map((x) => [x.entry.type, x.entry.name, x.missing]),
    [['TRIGGER', 'orders orders_touch', [227]]],
  );
  // The FK constraint of sales.lines (which references orders) belongs to lines: not reported.
  assert.ok(!r.ids.includes(3276));
  // The view and materialized view on orders are objects of their own, not part of the table.
  assert.ok(!r.ids.includes(224) && !r.ids.includes(225));
  // Archive order is kept.
  const order = toc.entries.map((e) => e.dumpId).filter((id) => r.ids.includes(id));
  assert.deepEqual(r.ids, order);
});

test('an FK constraint to a table not restored is skipped and reported', () => {
  const toc = fullToc();
  const r = selectTocEntries(toc.entries, { tables: [{ schema: 'sales', name: 'lines' }] });
  assert.deepEqual(names(toc, r.ids).sort(), [
    'CONSTRAINT|sales|lines lines_pkey',
    'SEQUENCE SET|sales|lines_id_seq',
    'SEQUENCE|sales|lines_id_seq',
    'TABLE DATA|sales|lines',
    'TABLE|sales|lines',
  ]);
  assert.equal(r.skipped.length, 1);
  assert.equal(r.skipped[0]!.entry.type, 'FK CONSTRAINT');
  assert.deepEqual(r.skipped[0]!.missing.sort(), [218, 3271]);

  const both = selectTocEntries(toc.entries, { tables: [{ schema: 'sales', name: 'lines' }, { name: 'orders' }] });
  assert.ok(both.ids.includes(3276));
  assert.deepEqual(
    both.skipped.map((x) => x.entry.dumpId),
    [3277],
  ); // the trigger, whose function is not chosen
});

test('names with spaces, unqualified names, and names that match nothing', () => {
  const toc = fullToc();
  const r = selectTocEntries(toc.entries, { tables: [{ schema: 'Weird Schema', name: 'Mixed Table' }, { name: 'nope' }] });
  assert.deepEqual(names(toc, r.ids).sort(), [
    'CONSTRAINT|Weird Schema|Mixed Table Mixed Table_Col A_key',
    'TABLE DATA|Weird Schema|Mixed Table',
    'TABLE|Weird Schema|Mixed Table',
  ]);
  assert.deepEqual(r.unmatched, ['nope']);
  const odd = selectTocEntries(toc.entries, { tables: [{ name: 'tab, with ; odd' }] });
  assert.deepEqual(names(toc, odd.ids).sort(), ['TABLE DATA|public|tab, with ; odd', 'TABLE|public|tab, with ; odd']);
});

test('selecting a schema takes the schema and everything in it', () => {
  const toc = fullToc();
  const r = selectTocEntries(toc.entries, { schemas: ['sales'] });
  const got = names(toc, r.ids);
  assert.ok(got.includes('SCHEMA|-|sales'));
  for (const e of toc.entries.filter((x) => x.schema === 'sales')) assert.ok(r.ids.includes(e.dumpId), `${e.type} ${e.name}`);
  assert.ok(!got.some((n) => n.includes('|public|') || n.includes('Weird')));
  assert.deepEqual(r.skipped, []);
});

test('-L list: chosen entries in archive order, one per line, readable', () => {
  const toc = fullToc();
  const text = writeTocList(toc.entries, [3425, 218]);
  const lines = text.split('\n').filter((l) => l && !l.startsWith(';'));
  assert.deepEqual(lines, ['218; 1259 16390 TABLE sales orders app_owner', '3425; 0 16390 TABLE DATA sales orders app_owner']);
  // Round trip through the parser.
  const back = parseTocList(text);
  assert.deepEqual(
    back.entries.map((e) => e.dumpId),
    [218, 3425],
  );
});

/** A TOC as pg_dump 15 writes it for a partitioned table, an inheritance tree and a second parent. */
function entry(dumpId: number, type: string, schema: string | undefined, name: string, deps: number[] = []) {
  return { dumpId, tableOid: 0, oid: 0, type, ...(schema !== undefined ? { schema } : {}), name, owner: 'postgres', deps };
}
const PARTITIONED = [
  entry(6, 'SCHEMA', undefined, 'sales'),
  entry(7, 'SCHEMA', undefined, 'archive'),
  entry(217, 'TABLE', 'sales', 'events', [6]),
  entry(218, 'TABLE', 'sales', 'events_2025', [6, 217]),
  entry(219, 'TABLE', 'sales', 'events_2025_a', [6, 218]),
  entry(222, 'TABLE', 'archive', 'events_2024', [7, 217]),
  entry(216, 'SEQUENCE', 'sales', 'events_id_seq', [6, 217]),
  entry(301, 'TABLE ATTACH', 'sales', 'events_2025', [218, 217]),
  entry(302, 'TABLE ATTACH', 'sales', 'events_2025_a', [219, 218]),
  entry(303, 'TABLE ATTACH', 'archive', 'events_2024', [222, 217]),
  entry(401, 'TABLE DATA', 'sales', 'events_2025_a', [219]),
  entry(402, 'TABLE DATA', 'archive', 'events_2024', [222]),
  entry(403, 'SEQUENCE SET', 'sales', 'events_id_seq', [216]),
  entry(501, 'INDEX', 'sales', 'events_kind', [217]),
  entry(502, 'INDEX', 'sales', 'events_2025_kind_idx', [501, 218]),
  entry(503, 'INDEX', 'sales', 'events_2025_a_kind_idx', [219, 502]),
  entry(601, 'INDEX ATTACH', 'sales', 'events_2025_kind_idx', [502, 501, 218, 217]),
  entry(602, 'INDEX ATTACH', 'sales', 'events_2025_a_kind_idx', [503, 502, 219, 218]),
  entry(700, 'TABLE', 'sales', 'stock', [6]),
  entry(701, 'TABLE', 'sales', 'tags', [6]),
  entry(702, 'TABLE', 'sales', 'stock_old', [6, 700]),
  entry(703, 'TABLE', 'sales', 'tagged_stock', [6, 700, 701]),
  entry(710, 'TABLE DATA', 'sales', 'stock_old', [702]),
  entry(711, 'TABLE DATA', 'sales', 'tagged_stock', [703]),
];

test('a partitioned table brings its partitions at every level, their attach entries, data, indexes and the identity sequence', () => {
  const r = selectTocEntries(PARTITIONED, { tables: [{ schema: 'sales', name: 'events' }] });
  assert.deepEqual(
    r.ids.sort((a, b) => a - b),
    [216, 217, 218, 219, 222, 301, 302, 303, 401, 402, 403, 501, 502, 503, 601, 602],
  );
  assert.deepEqual(r.skipped, []);
  assert.deepEqual(r.stranded, []);
});

test('a partition alone: its sub-partitions and own indexes; attaching it to the parent is left out and reported', () => {
  const r = selectTocEntries(PARTITIONED, { tables: [{ schema: 'sales', name: 'events_2025' }] });
  assert.deepEqual(
    r.ids.sort((a, b) => a - b),
    [218, 219, 302, 401, 502, 503, 602],
  );
  assert.deepEqual(r.skipped.map((s) => `${s.entry.type} ${s.entry.name}`).sort(), [
    'INDEX ATTACH events_2025_kind_idx',
    'TABLE ATTACH events_2025',
  ]);
});

test('an inheritance parent brings its children; a child that also needs a parent not chosen is stranded', () => {
  const r = selectTocEntries(PARTITIONED, { tables: [{ schema: 'sales', name: 'stock' }] });
  assert.deepEqual(
    r.ids.sort((a, b) => a - b),
    [700, 702, 710],
  );
  assert.deepEqual(
    r.stranded.map((s) => [s.entry.name, s.missing]),
    [['tagged_stock', [701]]],
  );
  const both = selectTocEntries(PARTITIONED, {
    tables: [
      { schema: 'sales', name: 'stock' },
      { schema: 'sales', name: 'tags' },
    ],
  });
  assert.deepEqual(
    both.ids.sort((a, b) => a - b),
    [700, 701, 702, 703, 710, 711],
  );
  assert.deepEqual(both.stranded, []);
});

test('a TOC read without its dependencies is known as such (selective restores are refused)', () => {
  assert.equal(knowsDependencies(PARTITIONED), true);
  assert.equal(knowsDependencies(parseTocList(TOC_LIST).entries), false);
});
