/**
 * Choose the TOC entries that restore some tables or schemas, with what belongs to them: a
 * table's definition and data, its indexes, constraints, defaults, triggers, policies, rules,
 * row security, comments, security labels and grants; the sequences it owns (serial/identity)
 * with their values; and its partitions (every level, in any schema, with their attach entries)
 * and inheritance children, with their rows, since they hold the rows a query of the table
 * returns. Pure.
 *
 * A dependent entry (index, FK constraint, trigger...) is taken only when every relation and
 * function it depends on is taken: an FK constraint to a table that is not restored, or a
 * trigger whose function is not, is left out and reported.
 */
import type { QualifiedName } from '../identifiers.js';
import { RELATION_TYPES, type TocEntry } from './types.js';

export interface TocSelection {
  tables?: QualifiedName[];
  schemas?: string[];
}

export interface SkippedEntry {
  entry: TocEntry;
  /** Dump ids of the relations it needs that were not selected. */
  missing: number[];
}

export interface TocSelectionResult {
  /** Dump ids to restore, in archive order. */
  ids: number[];
  /** The --table / --schema arguments that matched nothing. */
  unmatched: string[];
  /** Dependent entries left out because they need relations that are not restored. */
  skipped: SkippedEntry[];
  /**
   * Partitions or inheritance children of a chosen table that cannot come along because they
   * need a relation that is not chosen (a second parent): restoring the table without them would
   * silently lose their rows.
   */
  stranded: SkippedEntry[];
}

/** Entries that belong to another entry (restored with it, never chosen on their own). */
const DEPENDENT_TYPES = new Set([
  'TABLE DATA',
  'MATERIALIZED VIEW DATA',
  'TABLE ATTACH',
  'INDEX',
  'INDEX ATTACH',
  'CONSTRAINT',
  'CHECK CONSTRAINT',
  'FK CONSTRAINT',
  'TRIGGER',
  'POLICY',
  'ROW SECURITY',
  'RULE',
  'DEFAULT',
  'COMMENT',
  'SECURITY LABEL',
  'ACL',
  'SEQUENCE OWNED BY',
  'SEQUENCE SET',
  'STATISTICS',
  'STATISTICS DATA',
]);

/**
 * Entries whose absence makes a dependent entry fail to restore: relations, constraints, and
 * the functions triggers and defaults call (a trigger whose function is not restored is left
 * out and reported rather than failing the restore).
 */
const NEEDED_TYPES = new Set<string>([
  ...RELATION_TYPES,
  'INDEX',
  'CONSTRAINT',
  'CHECK CONSTRAINT',
  'FK CONSTRAINT',
  'FUNCTION',
  'PROCEDURE',
  'AGGREGATE',
]);

const TABLE_TYPES = new Set(['TABLE', 'FOREIGN TABLE']);

/**
 * An index or unique constraint of a partition depends on its parent's, for the attach only:
 * it can be created without it (the INDEX ATTACH entry is what needs both).
 */
const PARTITION_INDEX_TYPES = new Set(['INDEX', 'CONSTRAINT']);

function isRoot(e: TocEntry): boolean {
  return !DEPENDENT_TYPES.has(e.type);
}

function describeTable(q: QualifiedName): string {
  return q.schema !== undefined ? `${q.schema}.${q.name}` : q.name;
}

/**
 * Whether the TOC knows its dependencies (pg_restore --schema-only --verbose was read at dump
 * time). Without them, nothing ties a table to its data, indexes or partitions: a selection
 * would restore bare definitions.
 */
export function knowsDependencies(entries: TocEntry[]): boolean {
  return entries.some((e) => e.deps.length > 0);
}

export function selectTocEntries(entries: TocEntry[], sel: TocSelection): TocSelectionResult {
  const byId = new Map(entries.map((e) => [e.dumpId, e]));
  const chosen = new Set<number>();
  const unmatched: string[] = [];

  for (const t of sel.tables ?? []) {
    const hits = entries.filter(
      (e) =>
        (RELATION_TYPES as readonly string[]).includes(e.type) && e.name === t.name && (t.schema === undefined || e.schema === t.schema),
    );
    if (!hits.length) unmatched.push(describeTable(t));
    for (const h of hits) chosen.add(h.dumpId);
  }
  for (const s of sel.schemas ?? []) {
    const hits = entries.filter((e) => (e.type === 'SCHEMA' && e.schema === undefined && e.name === s) || (e.schema === s && isRoot(e)));
    if (!hits.length) unmatched.push(s);
    for (const h of hits) chosen.add(h.dumpId);
  }

  // Dependents of chosen entries, until nothing changes. A SEQUENCE that depends on a chosen
  // table is one it owns (serial or identity column) and comes along too.
  // A TABLE that depends on a chosen table is one of its partitions or inheritance children.
  const skipped = new Map<number, SkippedEntry>();
  const stranded = new Map<number, SkippedEntry>();
  const onChosenTable = (e: TocEntry) => e.deps.some((d) => chosen.has(d) && TABLE_TYPES.has(byId.get(d)?.type ?? ''));
  const needed = (e: TocEntry, d: number) => {
    const t = byId.get(d)?.type ?? '';
    return NEEDED_TYPES.has(t) && !(PARTITION_INDEX_TYPES.has(e.type) && PARTITION_INDEX_TYPES.has(t));
  };
  let changed = true;
  while (changed) {
    changed = false;
    for (const e of entries) {
      if (chosen.has(e.dumpId)) continue;
      const child = TABLE_TYPES.has(e.type);
      const dependent = DEPENDENT_TYPES.has(e.type) || e.type === 'SEQUENCE' || child;
      if (!dependent || !e.deps.some((d) => chosen.has(d))) continue;
      if ((e.type === 'SEQUENCE' || child) && !onChosenTable(e)) continue;
      const missing = e.deps.filter((d) => !chosen.has(d) && needed(e, d));
      if (missing.length) {
        (child ? stranded : skipped).set(e.dumpId, { entry: e, missing });
        continue;
      }
      skipped.delete(e.dumpId);
      stranded.delete(e.dumpId);
      chosen.add(e.dumpId);
      changed = true;
    }
  }
  // An entry that belongs to a table not restored (the FK constraint of another table that
  // references a chosen one) is not worth reporting; one that belongs to a chosen table is.
  const belongsToMissing = (s: SkippedEntry) =>
    s.missing.some((d) => {
      const m = byId.get(d);
      return (
        m !== undefined &&
        (RELATION_TYPES as readonly string[]).includes(m.type) &&
        m.schema === s.entry.schema &&
        (s.entry.name === m.name || s.entry.name.startsWith(m.name + ' '))
      );
    });
  return {
    ids: entries.filter((e) => chosen.has(e.dumpId)).map((e) => e.dumpId),
    unmatched,
    skipped: [...skipped.values()].filter((s) => !chosen.has(s.entry.dumpId) && !belongsToMissing(s)),
    stranded: [...stranded.values()].filter((s) => !chosen.has(s.entry.dumpId)),
  };
}
