/**
 * Combine `pg_restore -l` (every entry, ambiguous fields) with the verbose schema listing
 * (dependencies, exact fields, but no data entries). Data entries get their dependency inferred:
 * TABLE DATA / MATERIALIZED VIEW DATA share their relation's OID, SEQUENCE SET its sequence's
 * printed fields. Pure.
 */
import type { VerboseEntry } from './parse-verbose.js';
import type { Toc, TocEntry } from './types.js';

/** How `pg_restore -l` prints schema, name and owner (to match entries it printed alike). */
function listFields(e: { schema?: string; name: string; owner: string }): string {
  const clean = (s: string) => s.replace(/[\r\n]/g, ' ');
  return `${e.schema === undefined ? '-' : clean(e.schema)} ${clean(e.name)} ${clean(e.owner)}`;
}

const DATA_OF: Record<string, string[]> = {
  'TABLE DATA': ['TABLE', 'FOREIGN TABLE'],
  'MATERIALIZED VIEW DATA': ['MATERIALIZED VIEW'],
  'SEQUENCE SET': ['SEQUENCE'],
};

export function mergeVerbose(toc: Toc, verbose: Map<number, VerboseEntry>): Toc {
  const entries: TocEntry[] = toc.entries.map((e) => {
    const v = verbose.get(e.dumpId);
    if (!v || v.name === undefined) return { ...e };
    const merged: TocEntry = { ...e, name: v.name, owner: v.owner ?? e.owner, deps: v.deps };
    if (v.schema !== undefined) merged.schema = v.schema;
    else delete merged.schema;
    return merged;
  });

  const byOid = new Map<string, TocEntry>();
  const byFields = new Map<string, TocEntry>();
  for (const e of entries) {
    if (!verbose.has(e.dumpId)) continue;
    if (e.oid) byOid.set(`${e.type}:${e.oid}`, e);
    byFields.set(`${e.type}:${listFields(e)}`, e);
  }
  for (const e of entries) {
    if (verbose.has(e.dumpId)) continue;
    const ownerTypes = DATA_OF[e.type];
    if (!ownerTypes) continue;
    let owner: TocEntry | undefined;
    for (const t of ownerTypes) {
      owner = (e.oid ? byOid.get(`${t}:${e.oid}`) : undefined) ?? byFields.get(`${t}:${listFields(e)}`);
      if (owner) break;
    }
    if (!owner) continue;
    e.deps = [owner.dumpId];
    e.name = owner.name;
    e.owner = owner.owner;
    if (owner.schema !== undefined) e.schema = owner.schema;
    else delete e.schema;
  }
  return { header: toc.header, entries };
}
