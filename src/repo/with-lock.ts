/**
 * Run `fn` while holding a repository lock; the lock is released however `fn` ends. A failed
 * release never hides `fn`'s own error (it becomes a note on it: src/cleanup.ts); after `fn`
 * succeeded it is a warning when `onWarning` is given (the work is done), else it is thrown.
 */
import { withCleanup } from '../cleanup.js';
import type { Repository } from './repository.js';

export async function withRepoLock<T>(
  repo: Repository,
  kind: 'shared' | 'exclusive',
  purpose: string,
  cluster: string | undefined,
  fn: () => Promise<T>,
  onWarning?: (message: string) => void,
): Promise<T> {
  const lock = await repo.lock(kind, purpose, cluster);
  return withCleanup(fn, `releasing the repository lock ${lock.id}`, () => lock.release(), onWarning);
}

/** withRepoLock for work whose result carries warnings: a lock that cannot be released after it is one more. */
export async function withRepoLockWarnings<T extends { warnings: string[] }>(
  repo: Repository,
  kind: 'shared' | 'exclusive',
  purpose: string,
  cluster: string | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const late: string[] = [];
  const result = await withRepoLock(repo, kind, purpose, cluster, fn, (m) => late.push(m));
  result.warnings.push(...late);
  return result;
}
