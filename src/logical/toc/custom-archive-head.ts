/**
 * The head of a pg_dump custom-format archive (header and table of contents), read in pgkeep so
 * that the rows after it can be read without pg_restore (archive-rows.ts). Layout, as pg_dump
 * writes it (archive versions 1.12 to 1.16, pg_dump 9.6 to 18):
 *   "PGDMP", version major/minor/revision, int size, offset size, format (1 = custom),
 *   compression (an int level before 1.15, an algorithm byte since), creation time (7 ints),
 *   database name, server version, pg_dump version, entry count, then per entry: dump id,
 *   had-dumper, table oid, oid, tag, description, section, definition, drop statement, COPY
 *   statement, schema, tablespace, table access method (1.14+), relkind (1.16+, an int), owner,
 *   "false" (WITH OIDS), its dependencies (strings ending with a null one), and the custom
 *   format's data offset (a flag byte and an offset).
 * An int is a sign byte and `int size` bytes, least significant first; a string is an int
 * length (-1: null) and its bytes. The data blocks follow the last entry.
 */

export interface CustomArchiveEntry {
  dumpId: number;
  desc: string;
  tag: string;
  namespace: string | null;
  /** `COPY schema.table (columns) FROM stdin;` of a TABLE DATA entry, as bytes of the archive's encoding. */
  copyStmt: Buffer | null;
}

export interface CustomArchiveHead {
  version: string;
  intSize: number;
  /** Offset of the first data block. */
  dataStart: number;
  entries: CustomArchiveEntry[];
}

/** What this reader can read; anything else is left to pg_restore. */
const FIRST = [1, 12];
const LAST = [1, 16];

export type HeadRead = { head: CustomArchiveHead } | { unsupported: string };

/** The archive's head from its first bytes (`buf` must hold at least the whole table of contents). */
export function readCustomArchiveHead(buf: Buffer): HeadRead {
  const r = new HeadCursor(buf);
  try {
    if (buf.subarray(0, 5).toString('latin1') !== 'PGDMP') return { unsupported: 'not a custom-format archive' };
    r.at = 5;
    const [maj, min, rev] = [r.byte(), r.byte(), r.byte()];
    const version = `${maj}.${min}.${rev}`;
    const v = maj * 100 + min;
    if (v < FIRST[0]! * 100 + FIRST[1]! || v > LAST[0]! * 100 + LAST[1]!) return { unsupported: `archive version ${version}` };
    r.intSize = r.byte();
    const offSize = r.byte();
    if (r.intSize < 1 || r.intSize > 8 || offSize < 1 || offSize > 8)
      return { unsupported: `int size ${r.intSize}, offset size ${offSize}` };
    if (r.byte() !== 1) return { unsupported: 'not the custom format' };
    const compression = v >= 115 ? r.byte() : r.int();
    if (compression !== 0) return { unsupported: `compressed by pg_dump (${compression})` };
    for (let i = 0; i < 7; i++) r.int(); // creation time
    r.str(); // database
    r.str(); // server version
    r.str(); // pg_dump version
    const count = r.int();
    const entries: CustomArchiveEntry[] = [];
    for (let i = 0; i < count; i++) {
      const dumpId = r.int();
      r.int(); // had dumper
      r.str(); // table oid
      r.str(); // oid
      const tag = r.text() ?? '';
      const desc = r.text() ?? '';
      r.int(); // section
      r.str(); // definition
      r.str(); // drop statement
      const copyStmt = r.str();
      const namespace = r.text();
      r.str(); // tablespace
      if (v >= 114) r.str(); // table access method
      if (v >= 116) r.int(); // relkind
      r.str(); // owner
      r.str(); // "false": WITH OIDS
      while (r.str() !== null); // dependencies
      r.at += 1 + offSize; // data offset: flag and offset
      entries.push({ dumpId, desc, tag, namespace, copyStmt });
    }
    if (r.at > buf.length) throw new RangeError('short');
    return { head: { version, intSize: r.intSize, dataStart: r.at, entries } };
  } catch (e) {
    if (e instanceof RangeError) return { unsupported: `the table of contents goes past the ${buf.length} bytes read` };
    throw e;
  }
}

class HeadCursor {
  at = 0;
  intSize = 4;
  constructor(private readonly buf: Buffer) {}

  byte(): number {
    if (this.at >= this.buf.length) throw new RangeError('short');
    return this.buf[this.at++]!;
  }

  int(): number {
    const v = readArchiveInt(this.buf, this.at, this.intSize);
    if (v === undefined) throw new RangeError('short');
    this.at += 1 + this.intSize;
    return v;
  }

  str(): Buffer | null {
    const n = this.int();
    if (n < 0) return null;
    if (this.at + n > this.buf.length) throw new RangeError('short');
    const s = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return s;
  }

  text(): string | null {
    return this.str()?.toString('utf8') ?? null;
  }
}

/** An archive int at `at` (sign byte, then `intSize` bytes least significant first); undefined past the end. */
export function readArchiveInt(buf: Buffer, at: number, intSize: number): number | undefined {
  if (at + 1 + intSize > buf.length) return undefined;
  if (intSize === 4) return buf[at] ? -buf.readUInt32LE(at + 1) : buf.readUInt32LE(at + 1);
  let v = 0;
  for (let i = intSize - 1; i >= 0; i--) v = v * 256 + buf[at + 1 + i]!;
  return buf[at] ? -v : v;
}
