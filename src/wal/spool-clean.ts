/**
 * The end of a prefetching recovery (recovery_end_command, or by hand): stop the prefetchers of
 * every spool under the root (SIGTERM, then SIGKILL after a short grace) and remove the root.
 * Nothing in a spool is anything but a copy of what the repository holds, and a prefetcher holds
 * no lock and writes nowhere else, so nothing is lost by not waiting for its orderly exit — and
 * the server is not ready for connections until this command returns (measured: a prefetcher
 * tearing down took ~1.5 s of the recovery's end).
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

export async function cleanSpoolRoot(root: string, graceMs = 150): Promise<SpoolCleanResult> {
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
  await waitGone(stopped, graceMs);
  for (const pid of stopped.filter(processAlive)) signal(pid, 'SIGKILL');
  await waitGone(stopped, 5_000); // a killed process is gone at once; bounded all the same
  await rm(root, { recursive: true, force: true, maxRetries: 3 });
  return { removed: true, stopped };
}

async function waitGone(pids: number[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (pids.some(processAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}
