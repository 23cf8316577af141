/**
 * The files of the prefetch spool that the prefetcher and the gets (node's, and the sh front's:
 * bin/pgkeep reads the same names) share: its pid file, `.want`, `.source`, `.checked` and the
 * `.fetching-<segment>` markers.
 */
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isWalFileName } from '../pg/wal-name.js';
import { processAlive } from '../pg/process-alive.js';
import { SPOOL_TMP_PREFIX } from './spool.js';

export const PID_FILE = '.prefetch.pid';
export const INFLIGHT_PREFIX = '.fetching-';
const WANT_FILE = '.want';
/** Written by the sh front when it answers "not in the archive": recovery has started asking. */
export const NOW_FILE = '.now';
/** Which repository and cluster the spool is filled from, as given on the command line (for the fast path of `wal get`). */
export const SOURCE_FILE = '.source';
/**
 * The pid of the prefetcher once it has checked every entry in the spool, dated when its checks
 * started; each entry it adds is checked first and dated the same. The sh front (bin/pgkeep)
 * serves an entry without reading it only while this names the live prefetcher and the entry is
 * not newer (nothing wrote to it since). A prefetcher that starts over a spool (after a crash or
 * kill) checks the entries it finds before it writes this file.
 */
export const CHECKED_FILE = '.checked';
/**
 * Written once by a prefetcher that `pgkeep restore` started, when its first round of history
 * checks is over: recovery's first calls (the timeline history probes) are then answered by the
 * sh front, so restore waits for it (a little) before it returns.
 */
export const READY_FILE = '.ready';

/** The .source record: a get may use the spool without opening the repository only when it names the same two. */
export function spoolSource(repoLocation: string, cluster: string): string {
  return JSON.stringify({ repo: repoLocation, cluster });
}

/** Record the segment recovery was just served: the prefetcher keeps the next ones ready. */
export async function recordServed(spoolDir: string, name: string): Promise<void> {
  const tmp = join(spoolDir, `${SPOOL_TMP_PREFIX}want-${process.pid}`);
  await writeFile(tmp, name, { mode: 0o600 });
  await rename(tmp, join(spoolDir, WANT_FILE));
}

export async function readWant(spoolDir: string): Promise<string | undefined> {
  try {
    const s = (await readFile(join(spoolDir, WANT_FILE), 'utf8')).trim();
    return isWalFileName(s) ? s : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the live prefetcher of the spool, if any (a stale pid file, or a pid now used by another program, is none). */
export async function prefetcherPid(spoolDir: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(join(spoolDir, PID_FILE), 'utf8')).trim());
    if (!(pid > 0) || !processAlive(pid)) return undefined;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
    return cmdline === undefined || cmdline.includes('prefetch') ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function prefetcherRunning(spoolDir: string): Promise<boolean> {
  return (await prefetcherPid(spoolDir)) !== undefined;
}

/**
 * The file that says the live prefetcher is fetching `name` now or will next (it is in its
 * window: a get waits for it rather than fetching it twice). It goes when the segment is
 * spooled, found missing (then `.absent-<name>`), refused, or no longer in the window.
 */
export function inflightMarker(dir: string, name: string): string {
  return join(dir, `${INFLIGHT_PREFIX}${name}`);
}

/**
 * When the prefetcher is fetching `name` (now or next), wait (at most `timeoutMs`) until it is
 * spooled, the fetch ended otherwise (not in the archive, disk full: the marker goes) or the
 * prefetcher died. Never waits for a segment no live prefetcher is to fetch.
 */
export async function awaitInflight(dir: string, name: string, timeoutMs = 60_000): Promise<void> {
  const marker = inflightMarker(dir, name);
  const deadline = Date.now() + timeoutMs;
  let checked = 0;
  while (Date.now() < deadline) {
    try {
      await stat(marker);
    } catch {
      return;
    }
    if (Date.now() - checked > 500) {
      if (!(await prefetcherRunning(dir))) return;
      checked = Date.now();
    }
    await sleep(5);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
