/**
 * Names for a restored table and its own objects (pure, no I/O).
 *
 * The restored table lives next to the original, so everything of it that PostgreSQL names per
 * schema — indexes (and the constraints they back), owned sequences, extended statistics — gets
 * a new name too: the table's name prefix swapped for the new one (orders_pkey ->
 * orders_restored_pkey), else the new name put in front; a number added while the name is taken
 * on either side (the live database, or the sandbox where the renaming happens); cut to
 * PostgreSQL's 63 bytes the way PostgreSQL itself does, shortening the prefix first.
 */
import { PgkeepError } from '../../errors.js';
import { parseQualifiedName, type QualifiedName } from '../identifiers.js';
import type { RenamedObject } from './types.js';

/** NAMEDATALEN - 1. */
export const MAX_IDENTIFIER_BYTES = 63;
export const DEFAULT_SCHEMA = 'public';

export interface TableNames {
  /** The table at the target time. */
  source: Required<QualifiedName>;
  /** Its name in the live database after the restore. */
  target: Required<QualifiedName>;
}

/** `--table` and `--as` as given; unqualified --table means schema public, unqualified --as the table's schema. */
export function resolveTableNames(table: string, as?: string): TableNames {
  const t = parseQualifiedName(table, 'table name');
  const source = { schema: t.schema ?? DEFAULT_SCHEMA, name: t.name };
  const a = as !== undefined ? parseQualifiedName(as, '--as name') : { name: `${source.name}_restored` };
  const target = { schema: a.schema ?? source.schema, name: a.name };
  if (Buffer.byteLength(target.name) > MAX_IDENTIFIER_BYTES) {
    throw new PgkeepError('USAGE', `the new name "${target.name}" is longer than PostgreSQL's ${MAX_IDENTIFIER_BYTES} bytes`, {
      hint: 'choose a shorter name with --as NAME',
    });
  }
  // --as the table's own name is fine when no such table exists now (after a DROP): check-live refuses it otherwise.
  return { source, target };
}

/** Cut `s` to at most `max` bytes of UTF-8 without splitting a character. */
export function truncateBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = '';
  for (const ch of s) {
    if (Buffer.byteLength(out + ch) > max) break;
    out += ch;
  }
  return out;
}

/** prefix + rest within 63 bytes: the prefix gives way first (as PostgreSQL's ChooseRelationName). */
export function joinWithin(prefix: string, rest: string, max = MAX_IDENTIFIER_BYTES): string {
  const restBytes = Buffer.byteLength(rest);
  if (restBytes >= max) return truncateBytes(prefix + rest, max);
  return truncateBytes(prefix, max - restBytes) + rest;
}

/** The name a dependent object gets: old table prefix replaced by the new name, else prefixed. */
export function dependentName(object: string, oldTable: string, newTable: string): { prefix: string; rest: string } {
  if (object.startsWith(oldTable) && object.length > oldTable.length) return { prefix: newTable, rest: object.slice(oldTable.length) };
  return { prefix: `${newTable}_`, rest: object };
}

export interface Dependent {
  kind: 'index' | 'sequence' | 'statistics';
  schema: string;
  name: string;
}

/**
 * New names for the dependents. `taken(kind, schema)` gives the names in use there (both
 * databases); names chosen here are added so that two dependents never get the same one.
 */
export function planRenames(
  oldTable: string,
  newTable: string,
  dependents: Dependent[],
  taken: (kind: Dependent['kind'], schema: string) => Set<string>,
): RenamedObject[] {
  const out: RenamedObject[] = [];
  for (const d of dependents) {
    const used = taken(d.kind, d.schema);
    const { prefix, rest } = dependentName(d.name, oldTable, newTable);
    let name = joinWithin(prefix, rest);
    for (let n = 1; used.has(name); n++) {
      if (n > 9999) throw new PgkeepError('INTERNAL', `no free name for ${d.kind} ${d.name}`);
      name = joinWithin(prefix, `${rest}${n}`);
    }
    used.add(name);
    out.push({ kind: d.kind, schema: d.schema, from: d.name, to: name });
  }
  return out;
}
