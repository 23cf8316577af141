import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCustomArchiveHead, type CustomArchiveHead } from '../toc/custom-archive-head.js';
import { archiveRowEvents } from './archive-rows.js';
import { SMALL_ARCHIVE } from './archive-rows.fixtures.js';
import { ScriptCut } from './copy-stream.js';

const A_ROWS = '1\tx\\ty\n2\tmulti\\nline\n3\t\\N\n4\tä ✓\n';
const B_ROWS = [1, 2, 3, 4, 5].map((g) => `${'b'.repeat(300)}${g}\n`).join('');

function head(): CustomArchiveHead {
  const r = readCustomArchiveHead(SMALL_ARCHIVE);
  assert.ok('head' in r, JSON.stringify(r));
  return r.head;
}

function idOf(h: CustomArchiveHead, table: string): number {
  return h.entries.find((e) => e.desc === 'TABLE DATA' && e.tag === table)!.dumpId;
}

function* pieces(buf: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < buf.length; at += size) yield Buffer.from(buf.subarray(at, at + size));
}

async function collect(
  input: Iterable<Buffer>,
  wanted: string[],
  batchBytes = 1 << 20,
): Promise<Array<{ table: string; sql: string; rows: string; batches: number }>> {
  const h = head();
  const out: Array<{ table: string; sql: string; rows: string; batches: number }> = [];
  const source = (async function* () {
    yield* input;
  })();
  for await (const ev of archiveRowEvents(source, h, new Set(wanted.map((t) => idOf(h, t))), batchBytes, 'UTF8')) {
    if (ev.kind === 'start') out.push({ table: ev.table, sql: ev.sql, rows: '', batches: 0 });
    else if (ev.kind === 'rows') {
      const t = out[out.length - 1]!;
      t.rows += Buffer.concat(ev.data).toString('utf8');
      t.batches++;
      assert.equal(ev.bytes, Buffer.concat(ev.data).length);
    }
  }
  return out;
}

test('the head: version, entries with their COPY statements, where the data starts', () => {
  const h = head();
  assert.equal(h.version, '1.14.0');
  assert.deepEqual(
    h.entries.filter((e) => e.desc === 'TABLE DATA').map((e) => `${e.namespace}.${e.tag}: ${e.copyStmt?.toString().trim()}`),
    [
      'public.a: COPY public.a (id, t) FROM stdin;',
      'public.b: COPY public.b (k) FROM stdin;',
      'public.e: COPY public.e (x) FROM stdin;',
      'public.skipme: COPY public.skipme (v) FROM stdin;',
    ],
  );
  assert.equal(SMALL_ARCHIVE[h.dataStart], 1, 'a data block starts there');
});

test('only the wanted tables, their rows exactly, without the end marker, however the input is cut', async () => {
  for (const size of [1, 2, 5, 7, 64, 4096]) {
    const got = await collect(pieces(SMALL_ARCHIVE, size), ['a', 'b', 'e']);
    assert.deepEqual(
      got.map((t) => [t.table, t.sql, t.rows]),
      [
        ['public.a', 'COPY public.a (id, t) FROM stdin;', A_ROWS],
        ['public.b', 'COPY public.b (k) FROM stdin;', B_ROWS],
        ['public.e', 'COPY public.e (x) FROM stdin;', ''],
      ],
      `input in pieces of ${size} bytes`,
    );
  }
});

test('batches are cut at row ends once they reach the batch size', async () => {
  const [b] = await collect([SMALL_ARCHIVE], ['b'], 600);
  assert.equal(b!.rows, B_ROWS);
  assert.equal(b!.batches, 3, '5 rows of 302 bytes: 2 + 2 + 1');
});

test('a table whose rows are not all there, or is not in the archive: told, never passed on as complete', async () => {
  const h = head();
  const cutAt = SMALL_ARCHIVE.indexOf(Buffer.from('multi'));
  await assert.rejects(
    collect([SMALL_ARCHIVE.subarray(0, cutAt)], ['a']),
    (e: unknown) => e instanceof ScriptCut && /inside the rows of public\.a/.test((e as Error).message),
  );
  const events = archiveRowEvents(
    (async function* () {
      yield SMALL_ARCHIVE;
    })(),
    h,
    new Set([9999]),
    1 << 20,
    'UTF8',
  );
  // Read past every block, the large objects too, to the end: the entry is named.
  await assert.rejects(
    async () => {
      for await (const _ of events);
    },
    (e: unknown) => e instanceof ScriptCut && /ended before the rows of 9999/.test((e as Error).message),
  );
});

test('compressed or unknown archives are left to pg_restore', () => {
  const compressed = Buffer.from(SMALL_ARCHIVE);
  // archive 1.14: the compression level is the int after the format byte (offset 11: sign, 12..15: value)
  compressed[12] = 6;
  assert.match(JSON.stringify(readCustomArchiveHead(compressed)), /compressed by pg_dump \(6\)/);
  const newer = Buffer.from(SMALL_ARCHIVE);
  newer[6] = 17;
  assert.match(JSON.stringify(readCustomArchiveHead(newer)), /archive version 1\.17\.0/);
  assert.match(JSON.stringify(readCustomArchiveHead(SMALL_ARCHIVE.subarray(0, 300))), /past the 300 bytes/);
  assert.match(JSON.stringify(readCustomArchiveHead(Buffer.from('-- plain SQL'))), /not a custom-format archive/);
});
