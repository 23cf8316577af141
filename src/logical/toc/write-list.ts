/**
 * Write a TOC list for `pg_restore -L`: the chosen entries, one a line, in archive order (the
 * order pg_restore restores them in). pg_restore reads only the number before ';'; the rest is
 * written as `pg_restore -l` does, for people reading the file. Pure.
 */
import type { TocEntry } from './types.js';

export function formatListLine(e: TocEntry): string {
  const clean = (s: string) => s.replace(/[\r\n]/g, ' ');
  return `${e.dumpId}; ${e.tableOid} ${e.oid} ${e.type} ${e.schema === undefined ? '-' : clean(e.schema)} ${clean(e.name)} ${clean(e.owner)}`;
}

export function writeTocList(entries: TocEntry[], ids: Iterable<number>, title = 'selected by pgkeep'): string {
  const want = new Set(ids);
  const lines = [`; ${title}`, ';'];
  for (const e of entries) if (want.has(e.dumpId)) lines.push(formatListLine(e));
  return lines.join('\n') + '\n';
}
