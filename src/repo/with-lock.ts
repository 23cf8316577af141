/**
 * Run `fn` while holding a repository lock; the lock is released however `fn` ends. A failed
 * release never hides `fn`'s own error (it becomes a note on it: src/cleanup.ts).
 */
import { withCleanup } from '../cleanup.js';
import type { Repository } from './repository.js';

export async function withRepoLock<T>(repo: Repository, kind: 'shared' | 'exclusive', purpose: string,
  cluster: string | undefined, fn: () => Promise<T>): Promise<T> {
  const lock = await repo.lock(kind, purpose, cluster);
  return withCleanup(fn, `releasing the repository lock ${lock.id}`, () => lock.release());
}
