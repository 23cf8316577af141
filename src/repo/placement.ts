/**
 * A local repository must not live inside what pgkeep copies or rewrites: a repository inside the
 * data directory (or a tablespace) is backed up into itself at every backup, grows without end
 * and is lost with the disk it was meant to survive; a restore into a directory inside the
 * repository (or around it) overwrites or removes the repository's own files.
 *
 * Paths are compared physically: symlinks in the existing part of each path are resolved
 * (realpath), so /srv/pg -> /data/pg and a repository at /data/pg/backups overlap. S3
 * repositories have no local place and are never refused here.
 */
import { access, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { PgkeepError } from '../errors.js';
import type { Repository } from './repository.js';

/** The repository's local directory, or undefined (S3). */
export function localRepoDir(repo: Pick<Repository, 'driver'>): string | undefined {
  const root = (repo.driver as { root?: unknown }).root;
  return typeof root === 'string' ? root : undefined;
}

/** The path with its existing part resolved through symlinks (the rest appended as given). */
export async function physicalPath(p: string): Promise<string> {
  const abs = resolve(p);
  try {
    return await realpath(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    const parent = dirname(abs);
    return parent === abs ? abs : join(await physicalPath(parent), basename(abs));
  }
}

/** True when `child` is `parent` or below it. */
export function within(parent: string, child: string): boolean {
  const r = relative(parent, child);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

export interface Place {
  /** e.g. "the data directory", "tablespace 16384". */
  what: string;
  path: string;
}

/** The first place that overlaps the local repository (`how` says which way), with both paths. */
async function firstOverlap(repo: Pick<Repository, 'driver'>, places: Place[], how: (repoPath: string, place: string) => boolean) {
  const dir = localRepoDir(repo);
  if (!dir) return undefined;
  const repoPath = await physicalPath(dir);
  for (const p of places) {
    const path = await physicalPath(p.path);
    if (how(repoPath, path)) return { dir, place: p, inRepo: within(repoPath, path) };
  }
  return undefined;
}

/** Backup: refused (CONFIG) when the repository is inside the data directory or a tablespace. */
export async function refuseRepoInside(repo: Pick<Repository, 'driver'>, places: Place[]): Promise<void> {
  const hit = await firstOverlap(repo, places, (repoPath, place) => within(place, repoPath));
  if (!hit) return;
  const { dir, place: p } = hit;
  throw new PgkeepError(
    'CONFIG',
    `the repository ${dir} is inside ${p.what} (${p.path}): it would be backed up into itself; nothing was written`,
    {
      hint: 'put the repository outside the data directory and the tablespaces (on another disk, ideally another host), and set --repo / [repo] path to it',
      details: { repo: dir, [p.what]: p.path },
    },
  );
}

/** Restore: refused (USAGE) when a target is inside the repository or the repository inside a target. */
export async function refuseTargetOverlap(repo: Pick<Repository, 'driver'>, targets: Place[]): Promise<void> {
  const hit = await firstOverlap(repo, targets, (repoPath, place) => within(repoPath, place) || within(place, repoPath));
  if (!hit) return;
  const { dir, place: t } = hit;
  throw new PgkeepError(
    'USAGE',
    hit.inRepo
      ? `${t.what} ${t.path} is inside the repository ${dir}: the restore would write among the repository's files`
      : `the repository ${dir} is inside ${t.what} ${t.path}: the restore would overwrite or remove it`,
    {
      hint: 'restore into a directory outside the repository (and keep the repository outside every data directory)',
      details: { repo: dir, [t.what]: t.path },
    },
  );
}

/** The nearest directory at or above `path` that is a PostgreSQL data directory (PG_VERSION and global/pg_control). */
export async function enclosingDataDir(path: string): Promise<string | undefined> {
  for (let dir = await physicalPath(path); ; dir = dirname(dir)) {
    const found = await Promise.all([access(join(dir, 'PG_VERSION')), access(join(dir, 'global', 'pg_control'))]).then(
      () => true,
      () => false,
    );
    if (found) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** repo init: refused (CONFIG) inside a PostgreSQL data directory, whichever cluster it is. */
export async function refuseInitInsideDataDir(location: string): Promise<void> {
  if (/^s3:\/\//i.test(location)) return;
  const dataDir = await enclosingDataDir(location);
  if (!dataDir) return;
  throw new PgkeepError(
    'CONFIG',
    `${location} is inside the PostgreSQL data directory ${dataDir}: a repository there would be backed up into itself and lost with that disk; nothing was created`,
    {
      hint: 'create the repository outside every data directory (on another disk, ideally another host)',
      details: { repo: location, dataDir },
    },
  );
}
