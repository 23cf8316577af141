/**
 * Parse `pg_restore -l` output. Pure.
 *
 * Each entry line is `<dumpId>; <catalog oid> <oid> <TYPE> <schema|-> <name> <owner>`, fields
 * separated by single spaces that names may contain too. The type is found among the known
 * descriptions (longest first). Schema and owner are then split off using the names the caller
 * knows (schemas and roles of the database, when given), else at the first and last space.
 * mergeVerbose() later replaces these guesses with the unambiguous fields of the verbose dump.
 */
import { KNOWN_TYPES, type Toc, type TocEntry, type TocHeader } from './types.js';

export interface ListParseHints {
  /** Schema names that exist in the dumped database. */
  schemas?: Iterable<string>;
  /** Role names (possible owners). */
  owners?: Iterable<string>;
}

const TYPES_LONGEST_FIRST = [...KNOWN_TYPES].sort((a, b) => b.length - a.length);

const HEADER_KEYS: Record<string, keyof TocHeader> = {
  dbname: 'dbname',
  'TOC Entries': 'entryCount',
  Compression: 'compression',
  'Dump Version': 'dumpVersion',
  Format: 'format',
  'Dumped from database version': 'serverVersion',
  'Dumped by pg_dump version': 'pgDumpVersion',
};

function parseHeaderLine(line: string, header: TocHeader): void {
  const created = /^;\s*Archive created at (.+)$/.exec(line);
  if (created) {
    header.archiveCreated = created[1]!.trim();
    return;
  }
  const kv = /^;\s+([^:]+):\s?(.*)$/.exec(line);
  if (!kv) return;
  const key = HEADER_KEYS[kv[1]!.trim()];
  if (!key) return;
  const value = kv[2]!.trim();
  if (key !== 'entryCount') header[key] = value;
  else if (/^\d+$/.test(value)) header.entryCount = Number(value); // never NaN (stored as null, a damaged meta)
}

/** Split "<schema> <name> <owner>" (schema '-' = none). */
export function splitSchemaNameOwner(
  rest: string,
  hints: { schemas: Set<string>; owners: Set<string> },
): { schema?: string; name: string; owner: string } {
  let schema: string | undefined;
  let afterSchema: string;
  if (rest.startsWith('- ')) {
    afterSchema = rest.slice(2);
  } else {
    const known = [...hints.schemas].filter((s) => rest.startsWith(s + ' ')).sort((a, b) => b.length - a.length)[0];
    const cut = known !== undefined ? known.length : rest.indexOf(' ');
    if (cut < 0) return { name: rest, owner: '' };
    schema = rest.slice(0, cut);
    afterSchema = rest.slice(cut + 1);
  }
  // Owner: the longest known role that ends the line, else the last word ('' when the line
  // ends with the separator, as for objects without an owner).
  const knownOwner = [...hints.owners].filter((o) => o !== '' && afterSchema.endsWith(' ' + o)).sort((a, b) => b.length - a.length)[0];
  let name: string;
  let owner: string;
  if (knownOwner !== undefined) {
    owner = knownOwner;
    name = afterSchema.slice(0, afterSchema.length - knownOwner.length - 1);
  } else {
    const sp = afterSchema.lastIndexOf(' ');
    name = sp < 0 ? afterSchema : afterSchema.slice(0, sp);
    owner = sp < 0 ? '' : afterSchema.slice(sp + 1);
  }
  return { schema, name, owner };
}

/** Parse one entry line; undefined for comments, blank lines and commented-out entries. */
export function parseListLine(line: string, hints: ListParseHints = {}): TocEntry | undefined {
  const m = /^(\d+);\s(\d+)\s(\d+)\s(.*)$/.exec(line);
  if (!m) return undefined;
  const rest = m[4]!;
  const type = TYPES_LONGEST_FIRST.find((t) => rest.startsWith(t + ' ')) ?? /^([A-Z_]+(?: [A-Z_]+)*?) /.exec(rest)?.[1];
  if (!type) return undefined;
  const fields = splitSchemaNameOwner(rest.slice(type.length + 1), {
    schemas: new Set(hints.schemas ?? []),
    owners: new Set(hints.owners ?? []),
  });
  const entry: TocEntry = {
    dumpId: Number(m[1]),
    tableOid: Number(m[2]),
    oid: Number(m[3]),
    type,
    name: fields.name,
    owner: fields.owner,
    deps: [],
  };
  if (fields.schema !== undefined) entry.schema = fields.schema;
  return entry;
}

/** Parse the whole `pg_restore -l` output: header facts and entries in archive order. */
export function parseTocList(text: string, hints: ListParseHints = {}): Toc {
  const header: TocHeader = {};
  const entries: TocEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith(';')) {
      parseHeaderLine(line, header);
      continue;
    }
    const e = parseListLine(line, hints);
    if (e) entries.push(e);
  }
  return { header, entries };
}
