/**
 * pgkeep reads a custom archive's head itself (custom-archive-head.ts) to stream table rows without
 * pg_restore. That reader is only trusted where pg_restore, PostgreSQL's own reader, says the same:
 * every entry of the dump's TOC (read by `pg_restore -l` when the dump was stored, which leaves out
 * the ENCODING/STDSTRINGS/SEARCHPATH entries) must be in the head with the same type, and every table whose rows are wanted must carry the same type, schema and name in both. Anything
 * else (an archive version this reader was never run against, a reader defect) sends the rows
 * through pg_restore's script instead, which is slower and always right.
 */
import type { CustomArchiveHead } from './custom-archive-head.js';
import type { TocEntry } from './types.js';

export function headAgreesWithToc(head: CustomArchiveHead, toc: readonly TocEntry[], wanted: readonly number[]): boolean {
  if (head.entries.length < toc.length) return false;
  const byId = new Map(head.entries.map((e) => [e.dumpId, e]));
  if (byId.size !== head.entries.length) return false;
  for (const t of toc) {
    const h = byId.get(t.dumpId);
    if (!h || h.desc !== t.type) return false;
  }
  const tocById = new Map(toc.map((t) => [t.dumpId, t]));
  for (const id of wanted) {
    const h = byId.get(id);
    const t = tocById.get(id);
    if (!h || !t || h.desc !== 'TABLE DATA' || !h.copyStmt) return false;
    if (h.tag !== t.name || (h.namespace || undefined) !== (t.schema || undefined)) return false;
  }
  return true;
}
