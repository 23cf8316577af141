/**
 * Step "build file list" (local and cold): walk the data directory and the tablespaces behind
 * pg_tblspc/<oid>, apply the exclusions, and describe every directory, symlink and file to store
 * (path relative to the data directory, as in the server's backup_manifest). Entries that vanish
 * while we look are simply not listed: on a running server that is normal.
 */
import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import type { FileEntry } from '../repo/index.js';
import { decideEntries, type BackupMode } from './exclusions.js';
import type { TablespaceInfo } from '../holdings/physical-meta.js';
import { groupName, userName } from '../os-names.js';

export interface SourceFile extends FileEntry {
  /** Where to read it. */
  absPath: string;
  size: number;
}

export interface FileList {
  /** Directories and symlinks first (parents before children), then files. */
  entries: SourceFile[];
  tablespaces: TablespaceInfo[];
  /** Sum of regular file sizes. */
  totalBytes: number;
  fileCount: number;
}

export interface FileListOptions {
  mode: BackupMode;
  /** Major version of the data directory: tablespace subdirectories PG_<major>_* are read. */
  major: number;
  signal?: AbortSignal;
}

const isGone = (e: unknown): boolean => {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

export async function buildFileList(pgdata: string, opts: FileListOptions): Promise<FileList> {
  const list: FileList = { entries: [], tablespaces: [], totalBytes: 0, fileCount: 0 };
  const add = (rel: string, abs: string, st: Stats, type: FileEntry['type'], extra: Partial<FileEntry> = {}) => {
    const e: SourceFile = {
      path: rel,
      absPath: abs,
      type,
      mode: st.mode & 0o7777,
      size: type === 'file' ? st.size : 0,
      mtimeMs: st.mtimeMs,
      uid: st.uid,
      gid: st.gid,
      ...(userName(st.uid) ? { owner: userName(st.uid) } : {}),
      ...(groupName(st.gid) ? { group: groupName(st.gid) } : {}),
      ...extra,
    };
    list.entries.push(e);
    if (type === 'file') {
      list.totalBytes += st.size;
      list.fileCount++;
    }
  };

  const walk = async (absDir: string, relDir: string): Promise<void> => {
    opts.signal?.throwIfAborted();
    let dirents: Dirent[];
    try {
      dirents = await readdir(absDir, { withFileTypes: true });
    } catch (e) {
      if (isGone(e)) return;
      throw readError(absDir, e);
    }
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const decisions = decideEntries(
      relDir,
      dirents.map((d) => ({ name: d.name, isDirectory: d.isDirectory() || isDirLink(relDir, d) })),
      opts.mode,
    );
    for (const d of dirents) {
      const action = decisions.get(d.name) ?? 'include';
      if (action === 'skip') continue;
      const abs = join(absDir, d.name);
      const rel = relDir ? `${relDir}/${d.name}` : d.name;
      let st: Stats;
      try {
        st = await lstat(abs);
      } catch (e) {
        if (isGone(e)) continue;
        throw readError(abs, e);
      }
      if (st.isSymbolicLink()) {
        if (relDir === 'pg_tblspc') {
          await addTablespace(d.name, abs, rel, st);
          continue;
        }
        if (rel === 'pg_wal') {
          // pg_wal elsewhere (initdb --waldir): restored as a plain directory, like the server does
          let target: Stats;
          try {
            target = await stat(abs);
          } catch (e) {
            if (isGone(e)) continue;
            throw readError(abs, e);
          }
          add(rel, abs, target, 'directory');
          if (action !== 'empty-dir') await walk(abs, rel);
          continue;
        }
        let target: string;
        try {
          target = await readlink(abs);
        } catch (e) {
          if (isGone(e)) continue;
          throw readError(abs, e);
        }
        add(rel, abs, st, 'symlink', { linkTarget: target });
      } else if (st.isDirectory()) {
        add(rel, abs, st, 'directory');
        if (action !== 'empty-dir') await walk(abs, rel);
      } else if (st.isFile()) {
        add(rel, abs, st, 'file');
      }
      // sockets, FIFOs, devices: not part of a cluster; ignored
    }
  };

  const addTablespace = async (oid: string, abs: string, rel: string, st: Stats): Promise<void> => {
    let location: string;
    try {
      location = await readlink(abs);
    } catch (e) {
      if (isGone(e)) return;
      throw readError(abs, e);
    }
    add(rel, abs, st, 'symlink', { linkTarget: location });
    list.tablespaces.push({ oid, location });
    let names: Dirent[];
    try {
      names = await readdir(abs, { withFileTypes: true });
    } catch (e) {
      if (isGone(e)) return;
      throw readError(location, e);
    }
    // only this server version's directory (others belong to an old cluster after pg_upgrade)
    for (const d of names) {
      if (!d.isDirectory() || !d.name.startsWith(`PG_${opts.major}_`)) continue;
      const sub = join(abs, d.name);
      let sst: Stats;
      try {
        sst = await lstat(sub);
      } catch (e) {
        if (isGone(e)) continue;
        throw readError(sub, e);
      }
      add(`${rel}/${d.name}`, sub, sst, 'directory');
      await walk(sub, `${rel}/${d.name}`);
    }
  };

  await walk(pgdata, '');
  list.tablespaces.sort((a, b) => Number(a.oid) - Number(b.oid));
  return list;
}

function isDirLink(relDir: string, d: Dirent): boolean {
  return relDir === '' && d.name === 'pg_wal' && d.isSymbolicLink();
}

function readError(path: string, e: unknown): PgkeepError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') {
    return new PgkeepError('CONFIG', `cannot read ${path}: permission denied`, {
      hint: 'run pgkeep as the OS user that owns the data directory (usually postgres)',
      cause: e,
    });
  }
  return new PgkeepError('INTERNAL', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
}
