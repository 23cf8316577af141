/**
 * A pid file as a lock between background processes of one spool (the prefetcher, the
 * pusher): created exclusively with our pid; one whose owner is gone is replaced.
 */
import { open, unlink } from 'node:fs/promises';

/** Create `path` holding our pid; false while `ownerAlive()` says its current owner lives. */
export async function claimPidFile(path: string, ownerAlive: () => boolean | Promise<boolean>): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const h = await open(path, 'wx', 0o600);
      await h.writeFile(String(process.pid));
      await h.close();
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (await ownerAlive()) return false;
      await unlink(path).catch(() => undefined);
    }
  }
  return false;
}
