/**
 * Step "remove strays" (--delta): entries of the data directory that the snapshot does not have
 * are removed, so the result is exactly the backup. Only inside the data directory: symlinks
 * are removed, never followed, and tablespace locations are left alone. Returns what it removed.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RESTORE_TEMP_PREFIX } from './marker.js';

/**
 * `alsoKeep`: files the restore itself writes afterwards (e.g. recovery.signal). `dryRun`: only
 * list what would be removed (restore --plan).
 */
export async function removeStrays(
  dataDir: string,
  keep: Set<string>,
  alsoKeep: string[] = [],
  signal?: AbortSignal,
  dryRun = false,
): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const name of names) {
      signal?.throwIfAborted();
      const r = rel ? `${rel}/${name}` : name;
      const p = join(dir, name);
      if (!rel && name.startsWith(RESTORE_TEMP_PREFIX)) continue;
      if (!keep.has(r) && !alsoKeep.includes(r)) {
        if (!dryRun) await rm(p, { recursive: true, force: true });
        removed.push(r);
        continue;
      }
      const st = await lstat(p);
      if (st.isDirectory()) await walk(p, r);
    }
  };
  await walk(dataDir, '');
  return removed;
}
