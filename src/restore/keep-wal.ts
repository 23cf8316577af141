/**
 * Step "keep WAL" (--delta over an existing data directory): WAL the repository's archive does
 * not hold is never deleted. A crashed primary's pg_wal holds the segments its archiver had not
 * shipped yet (.ready) and the current segment: committed transactions exist nowhere else.
 *
 * Every WAL file of the target's pg_wal (segment, .partial, .history, .backup) is compared with
 * the archive by name and content (a crashed primary's segment may be newer than a same-named
 * copy there). Those the archive lacks, or holds with other content, are:
 *
 * - copied (fsynced) into a directory beside the data directory, DIR.unarchived-wal-<UTC time>,
 *   before anything in the data directory is touched (disk full: the restore stops there);
 * - with archive recovery, also kept in pg_wal with their archive_status files, where recovery
 *   replays them once the archive has no more (PostgreSQL's own advice for unarchived WAL), and
 *   from where an archiving copy ships them. Without archive recovery (a cold or standalone
 *   backup restored as it is) pg_wal gets the snapshot's WAL only: the copy aside is what is
 *   left of them, and the result says where.
 *
 * Never WAL: segments whose first page is zeros (pre-allocated) or names another position
 * (recycled): those carry no record of theirs and are removed like other strays.
 */
import { constants } from 'node:fs';
import { copyFile, lchown, mkdir, open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';
import { isArchivableWalName, parseWalFileName, walFileStartLsn } from '../pg/wal-name.js';
import { walObjectName } from '../holdings/wal-layout.js';
import { LONG_PAGE_HEADER_BYTES, readSegmentHeader } from '../pg/wal/identify.js';
import type { UnarchivedWal } from './types.js';

export interface UnarchivedFile {
  name: string;
  /** "missing": not in the archive; "different": archived with other content. */
  archive: 'missing' | 'different';
}

/** True when the file is a segment with no WAL of its own: zero-filled, or recycled from another position. */
function carriesNoWal(name: string, data: Buffer): boolean {
  const f = parseWalFileName(name);
  if (f.kind !== 'segment' && f.kind !== 'partial') return false;
  const head = data.subarray(0, LONG_PAGE_HEADER_BYTES);
  if (head.length === LONG_PAGE_HEADER_BYTES && head.every((b) => b === 0)) return true;
  try {
    const h = readSegmentHeader(data);
    return h.pageAddress !== walFileStartLsn(f, h.segmentSize);
  } catch {
    return false; // unreadable: keep it, it may still be someone's only copy
  }
}

async function archivedCopy(repo: Repository, cluster: string, systemId: string, name: string): Promise<Buffer | undefined> {
  try {
    return await repo.getObject(walObjectName(cluster, systemId, name));
  } catch (e) {
    if (e instanceof PgkeepError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
}

/** The WAL files of DIR/pg_wal that the archive does not hold as they are. */
export async function findUnarchivedWal(
  dataDir: string,
  repo: Repository,
  cluster: string,
  systemId: string,
  signal?: AbortSignal,
): Promise<UnarchivedFile[]> {
  let names: string[];
  try {
    names = (await readdir(join(dataDir, 'pg_wal'))).filter(isArchivableWalName).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw e;
  }
  const out: UnarchivedFile[] = [];
  for (const name of names) {
    signal?.throwIfAborted();
    const data = await readFile(join(dataDir, 'pg_wal', name));
    if (carriesNoWal(name, data)) continue;
    const archived = await archivedCopy(repo, cluster, systemId, name);
    if (archived && archived.equals(data)) continue;
    out.push({ name, archive: archived ? 'different' : 'missing' });
  }
  return out;
}

function stamp(d = new Date()): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** mkdir 0700 of `path`, or of `path`-2, -3... when it exists already; returns the one made. */
async function makeNewDir(path: string): Promise<string> {
  for (let i = 1; ; i++) {
    const p = i === 1 ? path : `${path}-${i}`;
    try {
      await mkdir(p, { mode: 0o700 });
      return p;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i >= 100) throw e;
    }
  }
}

/** Copy the files into DIR.unarchived-wal-<time> beside the data directory (owner: pg_wal's). Returns it. */
export async function saveWalAside(dataDir: string, files: UnarchivedFile[]): Promise<string> {
  let aside = walAsideDir(dataDir);
  const owner = await stat(join(dataDir, 'pg_wal'));
  try {
    aside = await makeNewDir(aside);
    await lchown(aside, owner.uid, owner.gid);
    for (const f of files) {
      const to = join(aside, f.name);
      await copyFile(join(dataDir, 'pg_wal', f.name), to, constants.COPYFILE_EXCL);
      await lchown(to, owner.uid, owner.gid);
      await fsyncPath(to);
    }
    await fsyncPath(aside);
    await fsyncPath(dirname(aside));
  } catch (e) {
    throw new PgkeepError(
      'CONFLICT',
      `could not copy the WAL the archive lacks out of ${dataDir}/pg_wal into ${aside}: ${(e as Error).message}; nothing in ${dataDir} was changed`,
      {
        hint: 'free space beside the data directory (or archive those segments first: pgkeep wal push), then run the restore again',
        details: { dataDir, aside, files: files.map((f) => f.name) },
        cause: e,
      },
    );
  }
  return aside;
}

/**
 * Find and save the unarchived WAL; returns what the result reports and the data-directory paths
 * remove-strays must leave (pg_wal/<name> and its archive_status files, with archive recovery).
 */
export async function keepUnarchivedWal(o: {
  dataDir: string;
  repo: Repository;
  cluster: string;
  systemId: string;
  archiveRecovery: boolean;
  /** Paths the snapshot writes (a same-named pg_wal file gets the snapshot's content). */
  snapshotPaths: Set<string>;
  signal?: AbortSignal;
}): Promise<{ report?: UnarchivedWal; keepPaths: string[] }> {
  const files = await findUnarchivedWal(o.dataDir, o.repo, o.cluster, o.systemId, o.signal);
  if (files.length === 0) return { keepPaths: [] };
  const savedTo = await saveWalAside(o.dataDir, files);
  return decideKeptWal(files, savedTo, o.archiveRecovery, o.snapshotPaths);
}

/** Which unarchived files stay in pg_wal (archive recovery replays them) and the paths remove-strays leaves. Pure. */
export function decideKeptWal(
  files: UnarchivedFile[],
  savedTo: string,
  archiveRecovery: boolean,
  snapshotPaths: Set<string>,
): { report: UnarchivedWal; keepPaths: string[] } {
  const kept = archiveRecovery ? files.filter((f) => !snapshotPaths.has(`pg_wal/${f.name}`)).map((f) => f.name) : [];
  const keepPaths = kept.flatMap((n) => [`pg_wal/${n}`, `pg_wal/archive_status/${n}.ready`, `pg_wal/archive_status/${n}.done`]);
  return {
    report: { files: files.map((f) => ({ ...f, keptInPgWal: kept.includes(f.name) })), savedTo },
    keepPaths,
  };
}

/** Where saveWalAside would copy them (its time stamp, before any -2 suffix). */
export function walAsideDir(dataDir: string, now = new Date()): string {
  return join(dirname(dataDir), `${basename(dataDir)}.unarchived-wal-${stamp(now)}`);
}

/** One line for the result's warnings. */
export function unarchivedWalWarning(r: UnarchivedWal): string {
  const kept = r.files.filter((f) => f.keptInPgWal).length;
  return (
    `${r.files.length} WAL file${r.files.length === 1 ? '' : 's'} in pg_wal ${r.files.length === 1 ? 'was' : 'were'} not in the archive ` +
    `(or differed from it): copied to ${r.savedTo}` +
    (kept ? `; ${kept} left in pg_wal, where archive recovery replays them` : "; pg_wal got the backup's WAL, so they are only there now") +
    ' — remove that directory only once they are archived or no longer wanted'
  );
}
