/**
 * `pgkeep wal get` (restore_command) around getWalFile: find the data directory recovery runs in,
 * the prefetch spool under it, serve the file, and — with --prefetch N, after a segment was
 * served — record it in the spool (the prefetcher keeps the next N ready) and start a detached
 * prefetcher when none runs. The command line of that process is the caller's (cli/ knows its
 * own flags); starting it is done here.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { getWalFile, type WalGetOptions, type WalGetResult } from './get.js';
import { prefetcherRunning, recordServed } from './prefetch.js';
import { defaultSpoolRoot } from './spool.js';
import { startDetached } from './start-detached.js';

/** Segments `pgkeep restore` asks restore_command to keep ahead of recovery. */
export const DEFAULT_PREFETCH = 8;
/** Most bytes one spool holds (at least one segment is always allowed). */
export const SPOOL_MAX_BYTES = 256 * 1024 * 1024;

/** A prefetcher to start: it keeps `count` segments ahead of recovery in `spoolDir`. */
export interface PrefetchLaunch {
  spoolDir: string;
  count: number;
  segmentSize: number;
  systemIdentifier: string;
  maxBytes: number;
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
  /** Why the spool could not be used this time (recovery goes on without it). */
  prefetchSkipped?: string;
}

export async function restoreWalFile(repo: Parameters<typeof getWalFile>[0], opts: RestoreWalOptions): Promise<RestoreWalResult> {
  const { prefetch, prefetchArgv, spoolRoot, ...get } = opts;
  const cwd = opts.cwd ?? process.cwd();
  const dataDir = recoveryDataDir(cwd, opts.pgdata);
  const result = await getWalFile(repo, {
    ...get,
    cwd,
    spoolRoot: restoreSpoolRoot({ prefetch, dataDir, spoolRoot }),
    beforeSpoolServe: recordServed,
  });
  if (!result.found || result.kind !== 'segment' || prefetch === 0 || !result.spoolDir || !result.segmentSize) return { result };
  const launch: PrefetchLaunch = {
    spoolDir: result.spoolDir,
    count: prefetch,
    segmentSize: result.segmentSize,
    systemIdentifier: result.systemIdentifier,
    maxBytes: SPOOL_MAX_BYTES,
  };
  try {
    mkdirSync(launch.spoolDir, { recursive: true, mode: 0o700 });
    await recordServed(launch.spoolDir, result.file);
    if (await prefetcherRunning(launch.spoolDir)) return { result };
    startDetached(prefetchArgv(launch), launch.spoolDir, 'prefetch.log', cwd);
  } catch (e) {
    // The segment is in place: a spool that cannot be written (disk full, permissions) costs speed, not recovery.
    return { result, prefetchSkipped: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
  return { result, prefetcher: launch };
}

/** Recovery runs restore_command in the data directory; elsewhere (a manual run) it is the configured one. */
export function recoveryDataDir(cwd: string, pgdata: string | undefined): string | undefined {
  return existsSync(join(cwd, 'PG_VERSION')) ? cwd : pgdata;
}

/** The spool root: the given one, else (prefetching only) the data directory's default. */
export function restoreSpoolRoot(p: { prefetch: number; dataDir: string | undefined; spoolRoot?: string }): string | undefined {
  return p.spoolRoot ?? (p.prefetch > 0 && p.dataDir ? defaultSpoolRoot(p.dataDir) : undefined);
}
