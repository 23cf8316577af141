/**
 * What a hot backup leaves out of the data directory: what the server itself leaves out of a base
 * backup (DESIGN.md §4), because it is rebuilt at startup, belongs to the running server only, or
 * would be wrong in a restored cluster. A cold backup keeps everything but a stale postmaster.pid.
 * Pure functions on names; the walker (file-list.ts) applies them.
 *
 * Skipped entirely (files, or directories with everything under them):
 *   postmaster.pid, postmaster.opts, backup_label, tablespace_map, backup_manifest,
 *   postgresql.auto.conf.tmp, current_logfiles.tmp (top level); pg_internal.init* and pgsql_tmp*
 *   (anywhere); temporary relations t<backend>_<relfilenode>[...] in database directories;
 *   unlogged relations' forks other than the init fork (the server recreates them from _init).
 * Kept as empty directories: pg_stat_tmp, pg_replslot, pg_dynshmem, pg_notify, pg_serial,
 *   pg_snapshots, pg_subtrans, pg_wal (with its archive_status and summaries subdirectories).
 */

export type BackupMode = 'hot' | 'cold';

/** What to do with one directory entry. */
export type EntryAction = 'include' | 'skip' | 'empty-dir';

export interface DirEntryName {
  name: string;
  isDirectory: boolean;
}

const TOP_LEVEL_SKIPPED_FILES = new Set([
  'postmaster.pid',
  'postmaster.opts',
  'backup_label',
  'tablespace_map',
  'backup_manifest',
  'postgresql.auto.conf.tmp',
  'current_logfiles.tmp',
]);

const CONTENTS_SKIPPED_DIRS = new Set([
  'pg_stat_tmp',
  'pg_replslot',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_subtrans',
]);

/** Subdirectories of pg_wal recreated empty. */
const PG_WAL_KEPT_DIRS = new Set(['archive_status', 'summaries']);

/** base/<oid> or pg_tblspc/<oid>/<version dir>/<oid> (relative to the data directory). */
export function isDatabaseDirectory(dirPath: string): boolean {
  return /^base\/\d+$/.test(dirPath) || /^pg_tblspc\/\d+\/[^/]+\/\d+$/.test(dirPath);
}

/** t<backend id>_<relfilenode> with optional fork and segment suffix. */
export function isTemporaryRelationName(name: string): boolean {
  return /^t\d+_\d+(_(fsm|vm|init))?(\.\d+)?$/.test(name);
}

export interface RelationFileName {
  relfilenode: string;
  fork: 'main' | 'fsm' | 'vm' | 'init';
  /** Segment number (".1" is 1; none is 0). */
  segment: number;
}

/** Parse a relation file name ("16384", "16384_fsm", "16384.2", "16384_init"). */
export function parseRelationFileName(name: string): RelationFileName | undefined {
  const m = /^(\d+)(?:_(fsm|vm|init))?(?:\.(\d+))?$/.exec(name);
  if (!m) return undefined;
  return { relfilenode: m[1]!, fork: (m[2] ?? 'main') as RelationFileName['fork'], segment: m[3] ? Number(m[3]) : 0 };
}

/**
 * A path whose pages carry PostgreSQL page checksums: a relation file in a database directory
 * or in global/ (not pg_control, pg_filenode.map, or SLRU files such as pg_xact).
 */
export function relationFileOf(path: string): RelationFileName | undefined {
  const slash = path.lastIndexOf('/');
  if (slash < 0) return undefined;
  const dir = path.slice(0, slash);
  if (dir !== 'global' && !isDatabaseDirectory(dir)) return undefined;
  return parseRelationFileName(path.slice(slash + 1));
}

/** Relation files of unlogged relations (those with an _init fork) other than the init fork. */
export function unloggedNonInitForks(names: readonly string[]): Set<string> {
  const unlogged = new Set<string>();
  const parsed = new Map<string, RelationFileName>();
  for (const n of names) {
    const r = parseRelationFileName(n);
    if (!r) continue;
    parsed.set(n, r);
    if (r.fork === 'init') unlogged.add(r.relfilenode);
  }
  const out = new Set<string>();
  if (unlogged.size === 0) return out;
  for (const [n, r] of parsed) if (unlogged.has(r.relfilenode) && r.fork !== 'init') out.add(n);
  return out;
}

/**
 * Decide for every entry of the directory `dirPath` (relative to the data directory, '' for the
 * top) what to do. Entries of directories whose contents are skipped never get here: the parent
 * decided 'empty-dir'.
 */
export function decideEntries(dirPath: string, entries: readonly DirEntryName[], mode: BackupMode): Map<string, EntryAction> {
  const out = new Map<string, EntryAction>();
  if (mode === 'cold') {
    for (const e of entries) out.set(e.name, dirPath === '' && e.name === 'postmaster.pid' && !e.isDirectory ? 'skip' : 'include');
    return out;
  }
  const dbDir = isDatabaseDirectory(dirPath);
  const unloggedSkips = dbDir ? unloggedNonInitForks(entries.filter((e) => !e.isDirectory).map((e) => e.name)) : new Set<string>();
  for (const e of entries) {
    out.set(e.name, decideOne(dirPath, e, dbDir, unloggedSkips));
  }
  return out;
}

function decideOne(dirPath: string, e: DirEntryName, dbDir: boolean, unloggedSkips: Set<string>): EntryAction {
  const { name } = e;
  if (name.startsWith('pgsql_tmp') || name.startsWith('pg_internal.init')) return 'skip';
  if (dirPath === '') {
    if (!e.isDirectory && TOP_LEVEL_SKIPPED_FILES.has(name)) return 'skip';
    if (e.isDirectory && (CONTENTS_SKIPPED_DIRS.has(name) || name === 'pg_wal')) return name === 'pg_wal' ? 'include' : 'empty-dir';
    return 'include';
  }
  if (dirPath === 'pg_wal') return e.isDirectory && PG_WAL_KEPT_DIRS.has(name) ? 'empty-dir' : 'skip';
  if (dbDir && !e.isDirectory) {
    if (isTemporaryRelationName(name) || unloggedSkips.has(name)) return 'skip';
  }
  return 'include';
}
