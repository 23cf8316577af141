/**
 * The restore plan: every snapshot entry with the place it goes on disk. No I/O.
 *
 * - paths are checked (relative, no "." or ".." segments): a snapshot never writes outside the
 *   data directory and the tablespace locations;
 * - files under pg_tblspc/<oid>/ go to the tablespace's (possibly remapped) location;
 * - global/pg_control is set apart: it is written last, so the directory cannot be started
 *   before the restore is complete;
 * - a symlinked pg_wal (initdb -X) comes back as a plain directory, so the restored cluster
 *   never writes into the source's WAL directory; other symlinks with stored contents too.
 */
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import { largestFirstByPath, type FileRecord } from '../repo/index.js';
import type { RestoredTablespace } from './types.js';

export const PG_CONTROL = 'global/pg_control';
export const TABLESPACE_MAP = 'tablespace_map';
/** Never restored: the lock file of a running server. */
const SKIPPED = new Set(['postmaster.pid']);
/**
 * Directories whose contents backups leave out and without which the server does not start:
 * created empty when a snapshot of a data directory lacks them.
 */
const REQUIRED_DIRS = [
  'pg_dynshmem',
  'pg_notify',
  'pg_replslot',
  'pg_serial',
  'pg_snapshots',
  'pg_stat_tmp',
  'pg_subtrans',
  'pg_tblspc',
  'pg_wal',
  'pg_wal/archive_status',
];

export interface PlannedEntry {
  record: FileRecord;
  /** Path relative to the data directory, as in the snapshot. */
  rel: string;
  /** Absolute path it is written to. */
  local: string;
}

export interface PlannedTablespace extends RestoredTablespace {
  /** Absolute path of the pg_tblspc/<oid> symlink. */
  link: string;
  /** The symlink's record, when the snapshot has one (owner, mtime). */
  record?: FileRecord;
}

export interface RestorePlan {
  dataDir: string;
  /** Parents before children. */
  directories: PlannedEntry[];
  symlinks: PlannedEntry[];
  tablespaces: PlannedTablespace[];
  /** Regular files except pg_control, largest first (keeps the parallel writers evenly busy). */
  files: PlannedEntry[];
  pgControl?: PlannedEntry;
  /** Paths inside the data directory that belong there (for --delta's clean-up). */
  keep: Set<string>;
  /** The record of the data directory itself ("." or ""), when stored. */
  root?: FileRecord;
  /** Whose owner the data directory and the files pgkeep adds get: root, else PG_VERSION, else pg_control. */
  ownerRecord?: FileRecord;
  totals: { entries: number; files: number; bytes: number };
}

/** Check a snapshot path: relative, "/"-separated, without empty, "." or ".." segments. */
export function checkSnapshotPath(path: string): void {
  const bad =
    path.length === 0 || path.startsWith('/') || path.includes('\0') || path.split('/').some((s) => s === '' || s === '.' || s === '..');
  if (bad) {
    throw new PgkeepError('DATA_INTEGRITY', `the snapshot lists the path "${path}", which would leave the data directory`, {
      hint: 'the snapshot\'s file list is not what pgkeep writes; do not restore it (check the repository with "pgkeep repo check")',
    });
  }
}

const TBLSPC_RE = /^pg_tblspc\/(\d+)(?:\/(.+))?$/;

export function planRestore(dataDir: string, records: FileRecord[], tablespaces: RestoredTablespace[]): RestorePlan {
  const byOid = new Map(tablespaces.map((t) => [t.oid, t]));
  const plan: RestorePlan = {
    dataDir,
    directories: [],
    symlinks: [],
    tablespaces: [],
    files: [],
    keep: new Set(),
    totals: { entries: 0, files: 0, bytes: 0 },
  };
  const linkRecords = new Map<string, FileRecord>();
  const hasChildren = new Set<string>();
  // The server's tar names a few entries "./pg_wal/..." : the same path without "./".
  records = records.map((r) => (r.path.startsWith('./') ? { ...r, path: r.path.replace(/^(\.\/)+/, '') } : r));
  for (const r of records) {
    const i = r.path.lastIndexOf('/');
    if (i > 0)
      for (let p = r.path.slice(0, i); ; ) {
        if (hasChildren.has(p)) break;
        hasChildren.add(p);
        const j = p.lastIndexOf('/');
        if (j <= 0) break;
        p = p.slice(0, j);
      }
  }

  for (const r of records) {
    if (r.path === '.' || r.path === '') {
      plan.root = r;
      continue;
    }
    checkSnapshotPath(r.path);
    if (SKIPPED.has(r.path)) continue;
    plan.totals.entries++;
    const ts = TBLSPC_RE.exec(r.path);
    const space = ts ? byOid.get(ts[1]!) : undefined;
    if (ts && space && ts[2] === undefined && r.type === 'symlink') {
      linkRecords.set(ts[1]!, r);
      plan.keep.add(r.path);
      continue;
    }
    const local = space && ts![2] !== undefined ? join(space.to, ts![2]) : join(dataDir, r.path);
    if (!space) plan.keep.add(r.path);
    const entry: PlannedEntry = { record: r, rel: r.path, local };
    if (r.type === 'directory') plan.directories.push(entry);
    else if (r.type === 'symlink') {
      if (r.path === 'pg_wal' || hasChildren.has(r.path)) {
        plan.directories.push({ ...entry, record: { ...r, type: 'directory', mode: 0o700, linkTarget: undefined } });
      } else plan.symlinks.push(entry);
    } else {
      plan.totals.files++;
      plan.totals.bytes += r.size;
      if (r.path === PG_CONTROL) plan.pgControl = entry;
      else plan.files.push(entry);
    }
  }
  if (plan.keep.has('PG_VERSION')) {
    for (const d of REQUIRED_DIRS) {
      if (plan.keep.has(d)) continue;
      plan.directories.push({
        rel: d,
        local: join(dataDir, d),
        record: { path: d, type: 'directory', mode: 0o700, mtimeMs: NaN, size: 0, chunks: [] },
      });
      plan.keep.add(d);
    }
  }
  for (const k of [...plan.keep]) {
    for (let i = k.lastIndexOf('/'); i > 0; i = k.lastIndexOf('/', i - 1)) plan.keep.add(k.slice(0, i));
  }
  for (const t of tablespaces) {
    plan.tablespaces.push({ ...t, link: join(dataDir, 'pg_tblspc', t.oid), record: linkRecords.get(t.oid) });
    plan.keep.add(`pg_tblspc/${t.oid}`);
  }
  plan.ownerRecord = plan.root ?? plan.files.find((f) => f.rel === 'PG_VERSION')?.record ?? plan.pgControl?.record;
  // Entries stored without owner facts (files pgkeep adds, such as backup_manifest) belong to the data directory's owner.
  const o = plan.ownerRecord;
  if (o) {
    const fill = (e: PlannedEntry) => {
      if (e.record.uid === undefined && e.record.owner === undefined) {
        e.record = { ...e.record, uid: o.uid, gid: o.gid, owner: o.owner, group: o.group };
      }
    };
    for (const list of [plan.directories, plan.symlinks, plan.files]) list.forEach(fill);
    if (plan.pgControl) fill(plan.pgControl);
    for (const t of plan.tablespaces)
      if (t.record && t.record.uid === undefined && t.record.owner === undefined) {
        t.record = { ...t.record, uid: o.uid, gid: o.gid, owner: o.owner, group: o.group };
      }
  }
  plan.directories.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  plan.files.sort((a, b) => largestFirstByPath(a.record, b.record)); // chunks are read part by part as files are written
  return plan;
}

/** Tablespaces recorded by a snapshot: its pg_tblspc/<oid> symlinks, plus those its meta names. */
export function recordedTablespaces(
  records: FileRecord[],
  meta: { tablespaces?: { oid: string; location: string }[] },
): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of meta.tablespaces ?? []) out.set(String(t.oid), t.location);
  for (const r of records) {
    const m = /^pg_tblspc\/(\d+)$/.exec(r.path);
    if (m && r.type === 'symlink' && r.linkTarget) out.set(m[1]!, r.linkTarget);
  }
  return out;
}
