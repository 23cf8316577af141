/** Run `fn` while holding a repository lock; the lock is released however `fn` ends. */
import type { Repository } from './repository.js';

export async function withRepoLock<T>(repo: Repository, kind: 'shared' | 'exclusive', purpose: string,
  cluster: string | undefined, fn: () => Promise<T>): Promise<T> {
  const lock = await repo.lock(kind, purpose, cluster);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
