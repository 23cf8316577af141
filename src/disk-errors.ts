/**
 * File-system errors that are not bugs: a full disk, an exhausted quota, a file too large, a
 * read-only file system, missing permission. They name the path and the file system's free
 * space, so the message says which disk is full and by how much. No import of errors.ts (which
 * uses this for its fallback), so the two never form a cycle.
 */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';

const REASONS: Record<string, string> = {
  ENOSPC: 'the disk is full (no space left on device)',
  EDQUOT: 'the disk quota is exhausted',
  EFBIG: 'the file is larger than the file system allows',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
};

/** The errno code of a file-system error pgkeep reports as the user's problem, or undefined. */
export function diskErrno(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
  return code && code in REASONS ? code : undefined;
}

export function diskReason(code: string): string {
  return REASONS[code] ?? code;
}

/** The path a Node fs error names, if any. */
export function errorPath(e: unknown): string | undefined {
  const p = typeof e === 'object' && e !== null && 'path' in e ? (e as { path: unknown }).path : undefined;
  return typeof p === 'string' ? p : undefined;
}

const MIB = 1024 * 1024;
const size = (n: number) => (n >= 10 * 1024 * MIB ? `${(n / 1024 / MIB).toFixed(1)} GiB` : `${(n / MIB).toFixed(1)} MiB`);

/** "12.0 MiB free of 8.0 GiB on the file system holding /x", or undefined when it cannot be told. */
export function freeSpaceOf(path: string): string | undefined {
  for (let p = path; ; p = dirname(p)) {
    try {
      const s = statfsSync(p);
      return `${size(Number(s.bavail) * Number(s.bsize))} free of ${size(Number(s.blocks) * Number(s.bsize))} on the file system holding ${p}`;
    } catch {
      if (dirname(p) === p) return undefined;
    }
  }
}

export interface DiskErrorFacts {
  code: 'CONFLICT';
  message: string;
  hint: string;
  details: Record<string, unknown>;
}

/**
 * The facts of a disk error while writing outside the repository (a restore target, a
 * destination file, a spool): CONFLICT — the target cannot take the data. Undefined when `e`
 * is not such an error. Repository writes are mapped by the storage drivers (REPOSITORY).
 */
export function targetDiskError(
  e: unknown,
  where?: {
    /** What is written there: "restore target". */
    what: string;
    dir: string;
    /** Bytes the whole operation writes, and how many were done, when known. */
    needed?: number;
    done?: number;
    /** What to do afterwards (appended to the hint). */
    then?: string;
  },
): DiskErrorFacts | undefined {
  const errno = diskErrno(e);
  if (!errno) return undefined;
  const path = errorPath(e) ?? where?.dir;
  const reason = diskReason(errno);
  const full = errno === 'ENOSPC' || errno === 'EDQUOT' || errno === 'EFBIG';
  const free = path ? freeSpaceOf(path) : undefined;
  const need =
    where?.needed !== undefined
      ? `; it needs ${size(where.needed)} in all${where.done !== undefined ? `, ${size(where.done)} were done` : ''}`
      : '';
  const fix = full
    ? `free space${free ? ` (${free}${need})` : need}`
    : errno === 'EROFS'
      ? 'remount the file system read-write or choose another location'
      : 'check the owner and mode of the directory and which OS user pgkeep runs as';
  return {
    code: 'CONFLICT',
    message: `cannot write ${path ?? 'a file'}${where ? ` (${where.what} ${where.dir})` : ''}: ${reason}`,
    hint: `${fix}${where?.then ? `; ${where.then}` : ''}`,
    details: { errno, ...(path ? { path } : {}), ...(where?.needed !== undefined ? { neededBytes: where.needed } : {}) },
  };
}
