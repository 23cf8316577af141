/**
 * Prefetching for long replays: after `wal get` serves segment X, a detached background process
 * fetches the next N segments into the spool, so the following `wal get` calls are a rename.
 * One prefetcher per spool at a time (a pid file guards it); it stops at the first segment the
 * archive does not have (the end of the archive, or a timeline switch).
 */
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';
import { nextWalFileName } from '../pg/wal-name.js';
import { walObjectName } from '../holdings/wal-layout.js';
import { putInSpool, spoolHas } from './spool.js';
import { processAlive } from '../pg/process-alive.js';
import { claimPidFile } from './pid-file.js';

const PID_FILE = '.prefetch.pid';

export interface PrefetchOptions {
  cluster: string;
  systemIdentifier: string;
  /** First segment to fetch. */
  first: string;
  count: number;
  segmentSize: number;
  spoolDir: string;
  signal?: AbortSignal;
}

export interface PrefetchResult {
  fetched: string[];
  /** Already in the spool. */
  skipped: string[];
  /** First segment the archive did not have. */
  missing?: string;
  /** Another prefetcher held the spool. */
  busy: boolean;
}

/** The `count` segment names after `name`. */
export function segmentsAfter(name: string, count: number, segmentSize: number): string[] {
  const out: string[] = [];
  let n = name;
  for (let i = 0; i < count; i++) out.push((n = nextWalFileName(n, segmentSize)));
  return out;
}

/** True when a live prefetcher holds the spool (a stale pid file is ignored). */
export async function prefetcherRunning(spoolDir: string): Promise<boolean> {
  try {
    const pid = Number((await readFile(join(spoolDir, PID_FILE), 'utf8')).trim());
    return pid > 0 && processAlive(pid);
  } catch {
    return false;
  }
}

export async function runPrefetch(repo: Pick<Repository, 'getObject'>, opts: PrefetchOptions): Promise<PrefetchResult> {
  const result: PrefetchResult = { fetched: [], skipped: [], busy: false };
  await mkdir(opts.spoolDir, { recursive: true, mode: 0o700 });
  if (!(await claim(opts.spoolDir))) return { ...result, busy: true };
  try {
    let name = opts.first;
    for (let i = 0; i < opts.count; i++, name = nextWalFileName(name, opts.segmentSize)) {
      opts.signal?.throwIfAborted();
      if (await spoolHas(opts.spoolDir, name)) {
        result.skipped.push(name);
        continue;
      }
      let data: Buffer;
      try {
        data = await repo.getObject(walObjectName(opts.cluster, opts.systemIdentifier, name));
      } catch (e) {
        if (e instanceof PgkeepError && e.code === 'NOT_FOUND') {
          result.missing = name;
          break;
        }
        throw e;
      }
      await putInSpool(opts.spoolDir, name, data);
      result.fetched.push(name);
    }
  } finally {
    await unlink(join(opts.spoolDir, PID_FILE)).catch(() => undefined);
  }
  return result;
}

/** Create the pid file exclusively; replace it when its owner is gone. */
function claim(dir: string): Promise<boolean> {
  return claimPidFile(join(dir, PID_FILE), () => prefetcherRunning(dir));
}
