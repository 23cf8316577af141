/**
 * The end of a prefetching recovery (recovery_end_command, or by hand): stop the prefetchers of
 * every spool under the root (SIGTERM, then SIGKILL after a bound) and remove the root. Nothing
 * in a spool is anything but a copy of what the repository holds.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { prefetcherPid } from './prefetch.js';
import { processAlive } from '../pg/process-alive.js';

export interface SpoolCleanResult {
  removed: boolean;
  /** Prefetchers that were still running and were stopped. */
  stopped: number[];
}

export async function cleanSpoolRoot(root: string, graceMs = 5_000): Promise<SpoolCleanResult> {
  let dirs: string[];
  try {
    dirs = await readdir(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { removed: false, stopped: [] };
    throw e;
  }
  const stopped: number[] = [];
  for (const d of dirs) {
    const pid = await prefetcherPid(join(root, d));
    if (pid === undefined) continue;
    stopped.push(pid);
    signal(pid, 'SIGTERM');
  }
  const deadline = Date.now() + graceMs;
  while (stopped.some(processAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of stopped.filter(processAlive)) signal(pid, 'SIGKILL');
  await rm(root, { recursive: true, force: true });
  return { removed: true, stopped };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}
