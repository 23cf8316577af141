/** Turns Node file-system errors into PgkeepErrors that say which object and what to do. */
import { PgkeepError } from '../../../errors.js';
import { freeSpaceOf } from '../../../disk-errors.js';
import { permissionHint } from './repo-owner.js';

export function errnoOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/** ENOENT/ENOTDIR while reading: the object does not exist. */
export function isMissing(e: unknown): boolean {
  const code = errnoOf(e);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export function notFound(location: string, key: string, cause?: unknown): PgkeepError {
  return new PgkeepError('NOT_FOUND', `repository object ${key} does not exist in ${location}`, {
    hint: 'run `pgkeep repo check` to see whether the repository is damaged',
    details: { key },
    cause,
  });
}

/** Any other I/O failure: the repository is unusable for this operation. */
export function ioError(location: string, action: string, key: string, e: unknown): PgkeepError {
  if (e instanceof PgkeepError) return e;
  const code = errnoOf(e);
  const message = e instanceof Error ? e.message : String(e);
  const free = code === 'ENOSPC' ? freeSpaceOf(location) : undefined;
  const hints: Record<string, string> = {
    ENOSPC: `the file system holding ${location} is full${free ? ` (${free})` : ''}; free space or move the repository, then run the command again`,
    EDQUOT: `the disk quota for ${location} is exhausted; raise it or free space, then run the command again`,
    EFBIG: `the file system holding ${location} does not allow a file this large (pack_size may be too big for it)`,
    EROFS: `${location} is on a read-only file system`,
    EIO: `the disk reported an I/O error; check the system log and run \`pgkeep repo check\``,
  };
  return new PgkeepError('REPOSITORY', `could not ${action} repository object ${key} in ${location}: ${message}`, {
    hint:
      code === 'EACCES' || code === 'EPERM'
        ? permissionHint(location)
        : ((code && hints[code]) ?? `check the repository location ${location}`),
    details: { key, ...(code ? { errno: code } : {}) },
    cause: e,
  });
}
