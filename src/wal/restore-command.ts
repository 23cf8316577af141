/**
 * `pgkeep wal get` (restore_command) around getWalFile: find the data directory recovery runs in,
 * the prefetch spool under it, serve the file, and — with --prefetch N, after a segment was
 * served — start a detached prefetcher for the next N segments unless the spool has them or a
 * prefetcher already runs. The command line of that process is the caller's (cli/ knows its own
 * flags); starting it is done here.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { getWalFile, type WalGetOptions, type WalGetResult } from './get.js';
import { prefetcherRunning, segmentsAfter } from './prefetch.js';
import { defaultSpoolRoot, spoolHas } from './spool.js';
import { startDetached } from './start-detached.js';

/** A prefetch to run: `count` segments from `first` into `spoolDir`. */
export interface PrefetchLaunch {
  spoolDir: string;
  first: string;
  count: number;
  segmentSize: number;
  systemIdentifier: string;
}

export interface RestoreWalOptions extends Omit<WalGetOptions, 'spoolRoot'> {
  /** Segments to fetch ahead after serving one (0: none). */
  prefetch: number;
  /** Root of the spool (--spool-dir); default pg_wal/pgkeep-spool of the data directory, with prefetch only. */
  spoolRoot?: string;
  /** The arguments (after node itself) of the process that runs `launch` (`pgkeep ... wal prefetch ...`). */
  prefetchArgv: (launch: PrefetchLaunch) => string[];
}

/** What getWalFile returned, and the prefetcher started, if any. */
export interface RestoreWalResult {
  result: WalGetResult;
  prefetcher?: PrefetchLaunch;
}

export async function restoreWalFile(repo: Parameters<typeof getWalFile>[0], opts: RestoreWalOptions): Promise<RestoreWalResult> {
  const { prefetch, prefetchArgv, spoolRoot, ...get } = opts;
  const cwd = opts.cwd ?? process.cwd();
  const dataDir = recoveryDataDir(cwd, opts.pgdata);
  const result = await getWalFile(repo, { ...get, cwd, spoolRoot: restoreSpoolRoot({ prefetch, dataDir, spoolRoot }) });
  if (!result.found || prefetch === 0 || !result.spoolDir || !result.segmentSize) return { result };
  const launch = await prefetchToStart({
    spoolDir: result.spoolDir, after: result.file, count: prefetch, segmentSize: result.segmentSize,
    systemIdentifier: result.systemIdentifier,
  });
  if (launch) startDetached(prefetchArgv(launch), launch.spoolDir, 'prefetch.log', cwd);
  return { result, ...(launch ? { prefetcher: launch } : {}) };
}

/** Recovery runs restore_command in the data directory; elsewhere (a manual run) it is the configured one. */
export function recoveryDataDir(cwd: string, pgdata: string | undefined): string | undefined {
  return existsSync(join(cwd, 'PG_VERSION')) ? cwd : pgdata;
}

/** The spool root: the given one, else (prefetching only) the data directory's default. */
export function restoreSpoolRoot(p: { prefetch: number; dataDir: string | undefined; spoolRoot?: string }): string | undefined {
  return p.spoolRoot ?? (p.prefetch > 0 && p.dataDir ? defaultSpoolRoot(p.dataDir) : undefined);
}

/** The prefetch to start after `after`, or undefined when the spool has the next segments or a live prefetcher holds it. */
export async function prefetchToStart(p: { spoolDir: string; after: string; count: number; segmentSize: number;
  systemIdentifier: string }): Promise<PrefetchLaunch | undefined> {
  const names = segmentsAfter(p.after, p.count, p.segmentSize);
  let missing = false;
  for (const n of names) if (!(await spoolHas(p.spoolDir, n))) missing = true;
  if (!missing || (await prefetcherRunning(p.spoolDir))) return undefined;
  return { spoolDir: p.spoolDir, first: names[0]!, count: p.count, segmentSize: p.segmentSize, systemIdentifier: p.systemIdentifier };
}
