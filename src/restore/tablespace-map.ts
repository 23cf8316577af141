/**
 * Tablespace locations: `--tablespace-map OLD=NEW` arguments, where each tablespace of the
 * snapshot goes, and the server's tablespace_map file (hot backups), which the server reads at
 * recovery start to recreate the pg_tblspc symlinks — so it must name the new locations too.
 * No I/O here.
 */
import { isAbsolute, normalize } from 'node:path';
import { PgkeepError } from '../errors.js';
import type { RestoredTablespace, TablespaceMapping } from './types.js';

/** Parse "OLD=NEW" ("\=" for a "=" inside OLD). NEW must be an absolute path. */
export function parseTablespaceMapping(arg: string): TablespaceMapping {
  let from = '';
  let i = 0;
  for (; i < arg.length; i++) {
    const c = arg[i]!;
    if (c === '\\' && arg[i + 1] === '=') {
      from += '=';
      i++;
    } else if (c === '=') break;
    else from += c;
  }
  const to = arg.slice(i + 1);
  if (i >= arg.length || !from || !to) {
    throw new PgkeepError('USAGE', `--tablespace-map "${arg}" is not OLD=NEW`, {
      hint: 'give the location recorded in the backup (or the tablespace OID) and the new directory, e.g. --tablespace-map /srv/ts1=/restore/ts1',
    });
  }
  if (!isAbsolute(to)) throw new PgkeepError('USAGE', `--tablespace-map: the new location "${to}" must be an absolute path`);
  return { from: stripSlash(from), to: normalize(stripSlash(to)) };
}

function stripSlash(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/** Where each tablespace (oid -> recorded location) goes. USAGE for mappings that match none. */
export function placeTablespaces(recorded: Map<string, string>, mappings: TablespaceMapping[]): RestoredTablespace[] {
  const used = new Set<TablespaceMapping>();
  const out: RestoredTablespace[] = [];
  for (const [oid, location] of [...recorded].sort((a, b) => Number(a[0]) - Number(b[0]))) {
    const m = mappings.filter((x) => x.from === oid || x.from === stripSlash(location));
    if (m.length > 1) throw new PgkeepError('USAGE', `--tablespace-map names tablespace ${oid} (${location}) more than once`);
    if (m[0]) used.add(m[0]);
    out.push({ oid, from: location, to: m[0]?.to ?? location });
  }
  const unused = mappings.filter((m) => !used.has(m));
  if (unused.length) {
    const known = out.map((t) => `${t.oid} ${t.from}`).join(', ') || 'none';
    throw new PgkeepError('USAGE', `--tablespace-map ${unused.map((m) => m.from).join(', ')}: the backup has no such tablespace`, {
      hint: `tablespaces of this backup (OID and location): ${known}`,
    });
  }
  const targets = new Map<string, string>();
  for (const t of out) {
    const other = targets.get(t.to);
    if (other)
      throw new PgkeepError('USAGE', `tablespaces ${other} and ${t.oid} would both be restored to ${t.to}`, {
        hint: 'give each a location of its own with --tablespace-map',
      });
    targets.set(t.to, t.oid);
  }
  return out;
}

export interface TablespaceMapEntry {
  oid: string;
  path: string;
}

/** Parse tablespace_map ("<oid> <path>" per line; "\" escapes the next character). */
export function parseTablespaceMapFile(text: string): TablespaceMapEntry[] {
  const out: TablespaceMapEntry[] = [];
  let line = '';
  let escaped = false;
  const flush = () => {
    const m = /^(\d+) (.*)$/s.exec(line);
    if (m) out.push({ oid: m[1]!, path: m[2]! });
    line = '';
  };
  for (const ch of text) {
    if (escaped) {
      line += ch;
      escaped = false;
    } else if (ch === '\\') escaped = true;
    else if (ch === '\n' || ch === '\r') flush();
    else line += ch;
  }
  if (line) flush();
  return out;
}

/** Render tablespace_map as the server writes it (newline, carriage return and "\" escaped). */
export function renderTablespaceMapFile(entries: TablespaceMapEntry[]): string {
  return entries.map((e) => `${e.oid} ${e.path.replace(/[\\\n\r]/g, (c) => `\\${c}`)}\n`).join('');
}

/** The tablespace_map text with the restored locations; unchanged text when nothing moved. */
export function remapTablespaceMapFile(text: string, placed: RestoredTablespace[]): string {
  const to = new Map(placed.map((t) => [t.oid, t.to]));
  const entries = parseTablespaceMapFile(text);
  if (entries.every((e) => (to.get(e.oid) ?? e.path) === e.path)) return text;
  return renderTablespaceMapFile(entries.map((e) => ({ oid: e.oid, path: to.get(e.oid) ?? e.path })));
}
