/**
 * The prefetcher behind `wal get --prefetch N`: one detached process per spool (a pid file guards
 * it) that keeps the N segments after the last one recovery was served (`.want`, written by each
 * `wal get`) in the spool, fetching a few in parallel, and follows recovery as it moves on —
 * onto a new timeline too (the names it fetches carry the timeline of the last served segment).
 *
 * Bounds: at most N segments and `maxBytes` in the spool, and never a write that would leave the
 * file system with less than `reserveBytes` free (the spool shares pg_wal's by default; recovery
 * needs that room). A full disk pauses prefetching, it never fails recovery: `wal get` reads the
 * repository directly for what the spool lacks. It stops fetching at the first segment the
 * archive lacks (the end of the archive) until recovery moves on, exits when recovery has asked
 * for nothing new for `idleMs`, when its spool is removed (recovery ended) and on SIGTERM.
 */
import { mkdir, readdir, readFile, rename, stat, statfs, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';
import { isWalFileName, nextWalFileName } from '../pg/wal-name.js';
import { walObjectName } from '../holdings/wal-layout.js';
import { pruneSpool, putInSpool, spoolChecksum, spoolEntries, spooledContentProblem, SPOOL_TMP_PREFIX } from './spool.js';
import { processAlive } from '../pg/process-alive.js';
import { claimPidFile } from './pid-file.js';

const PID_FILE = '.prefetch.pid';
const INFLIGHT_PREFIX = '.fetching-';
const WANT_FILE = '.want';
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

export interface PrefetchOptions {
  cluster: string;
  systemIdentifier: string;
  spoolDir: string;
  /** Segments to keep ahead of recovery. */
  count: number;
  segmentSize: number;
  /** Most bytes the spool holds (at least one segment is always allowed). */
  maxBytes: number;
  /** Free space to leave on the spool's file system (default 4 segments). */
  reserveBytes?: number;
  /** Parallel fetches (default 2). */
  concurrency?: number;
  /** Exit once recovery asked for nothing new this long (default 15 s). */
  idleMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
  /** The repository as the command line named it: recorded in the spool's .source with the cluster. */
  repoLocation?: string;
}

/** The .source record: a get may use the spool without opening the repository only when it names the same two. */
export function spoolSource(repoLocation: string, cluster: string): string {
  return JSON.stringify({ repo: repoLocation, cluster });
}

export type PrefetchStop = 'busy' | 'idle' | 'spool-removed' | 'aborted';

export interface PrefetchResult {
  fetched: string[];
  /** Segments the archive did not have (each ended a window: the end of the archive). */
  missing: string[];
  /** Writes refused for lack of space (prefetching paused, recovery unaffected). */
  diskFull: number;
  stop: PrefetchStop;
}

/** The `count` segment names after `name`. */
export function segmentsAfter(name: string, count: number, segmentSize: number): string[] {
  const out: string[] = [];
  let n = name;
  for (let i = 0; i < count; i++) out.push((n = nextWalFileName(n, segmentSize)));
  return out;
}

/** Record the segment recovery was just served: the prefetcher keeps the next ones ready. */
export async function recordServed(spoolDir: string, name: string): Promise<void> {
  const tmp = join(spoolDir, `${SPOOL_TMP_PREFIX}want-${process.pid}`);
  await writeFile(tmp, name, { mode: 0o600 });
  await rename(tmp, join(spoolDir, WANT_FILE));
}

async function readWant(spoolDir: string): Promise<string | undefined> {
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

type Fetch = { name: string; done: Promise<void> };

export async function runPrefetch(repo: Pick<Repository, 'getObject'>, opts: PrefetchOptions): Promise<PrefetchResult> {
  const result: PrefetchResult = { fetched: [], missing: [], diskFull: 0, stop: 'busy' };
  const dir = opts.spoolDir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!(await claim(dir))) return result;
  const concurrency = opts.concurrency ?? 2;
  const idleMs = opts.idleMs ?? 15_000;
  const pollMs = opts.pollMs ?? 50;
  const reserve = opts.reserveBytes ?? 4 * opts.segmentSize;
  const inflight = new Map<string, Fetch>();
  let want: string | undefined;
  let wantSince = Date.now();
  let endOfArchive: string | undefined; // a segment of the current window the archive lacks
  let pausedUntil = 0; // after a full disk
  let fatal: unknown;
  let spoolGone = false;
  // Objects whose content does not fit their name: never spooled, never fetched again by this prefetcher.
  const refused = new Set<string>();
  const checkedAt = new Date(Date.now() - 1000);

  const fetchOne = (name: string): Fetch => {
    const marker = inflightMarker(dir, name);
    const done = (async () => {
      let data: Buffer;
      await writeFile(marker, '', { mode: 0o600 });
      try {
        data = await repo.getObject(walObjectName(opts.cluster, opts.systemIdentifier, name));
      } catch (e) {
        if (e instanceof PgkeepError && e.code === 'NOT_FOUND') {
          if (!endOfArchive || name < endOfArchive) endOfArchive = name;
          result.missing.push(name);
          return;
        }
        throw e;
      }
      const problem = spooledContentProblem(data, name, spoolChecksum(data), opts.systemIdentifier);
      if (problem !== undefined) {
        refused.add(name); // a get reads it from the repository, and reports it there
        return;
      }
      try {
        await putInSpool(dir, name, data, checkedAt);
        result.fetched.push(name);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOSPC' || code === 'EDQUOT') {
          result.diskFull++;
          pausedUntil = Date.now() + 5_000;
        } else if (code === 'ENOENT') spoolGone = true;
        else throw e;
      }
    })()
      .catch((e) => {
        fatal ??= e;
      })
      .finally(async () => {
        await unlink(marker).catch(() => undefined);
        inflight.delete(name);
      });
    return { name, done };
  };

  try {
    await removeTempFiles(dir);
    await checkEntries(dir, opts.systemIdentifier, checkedAt);
    if (opts.repoLocation) await writeFile(join(dir, SOURCE_FILE), spoolSource(opts.repoLocation, opts.cluster), { mode: 0o600 });
    await writeChecked(dir, checkedAt);
    for (;;) {
      if (opts.signal?.aborted) return { ...result, stop: 'aborted' };
      if (
        spoolGone ||
        !(await readdir(dir).then(
          () => true,
          () => false,
        ))
      )
        return { ...result, stop: 'spool-removed' };
      if (fatal !== undefined) throw fatal;
      const w = await readWant(dir);
      if (w && w !== want) {
        want = w;
        wantSince = Date.now();
        endOfArchive = undefined;
        await pruneSpool(dir, want, true);
      }
      const started = want ? await startFetches(want) : 0;
      if (started === 0 && inflight.size === 0 && Date.now() - wantSince > idleMs) return { ...result, stop: 'idle' };
      await Promise.race([sleep(pollMs), ...[...inflight.values()].map((f) => f.done)]);
    }
  } finally {
    await Promise.allSettled([...inflight.values()].map((f) => f.done));
    await unlink(join(dir, CHECKED_FILE)).catch(() => undefined);
    await unlink(join(dir, PID_FILE)).catch(() => undefined);
  }

  async function startFetches(from: string): Promise<number> {
    if (Date.now() < pausedUntil) return 0;
    const entries = await spoolEntries(dir);
    let held = entries.size + inflight.size;
    let started = 0;
    for (const name of segmentsAfter(from, opts.count, opts.segmentSize)) {
      if (inflight.size >= concurrency) break;
      if (endOfArchive && name.slice(8) >= endOfArchive.slice(8)) break;
      if (entries.has(name) || inflight.has(name) || refused.has(name)) continue;
      if (held > 0 && (held + 1) * opts.segmentSize > opts.maxBytes) break;
      if (!(await roomFor(dir, opts.segmentSize + reserve))) break;
      inflight.set(name, fetchOne(name));
      held++;
      started++;
    }
    return started;
  }
}

/** The file that says a prefetcher is fetching `name` now (a get waits for it rather than fetching it twice). */
export function inflightMarker(dir: string, name: string): string {
  return join(dir, `${INFLIGHT_PREFIX}${name}`);
}

/**
 * When the prefetcher is fetching `name` now, wait (at most `timeoutMs`) until it is spooled,
 * the fetch ended otherwise (not in the archive, disk full: the marker goes) or the prefetcher
 * died. Never waits for a segment no prefetcher is fetching.
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

/** Entries left by an earlier prefetcher (perhaps torn by a crash): checked again, or deleted; dated `checkedAt`. */
async function checkEntries(dir: string, systemId: string, checkedAt: Date): Promise<void> {
  for (const [name, entry] of await spoolEntries(dir)) {
    const path = join(dir, entry);
    const data = await readFile(path).catch(() => undefined);
    if (data && spooledContentProblem(data, name, entry.slice(25), systemId) === undefined) await utimes(path, checkedAt, checkedAt);
    else
      await unlink(path).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e; // an unchecked entry must not stay: no .checked then
      });
  }
}

async function writeChecked(dir: string, checkedAt: Date): Promise<void> {
  const tmp = join(dir, `${SPOOL_TMP_PREFIX}checked-${process.pid}`);
  await writeFile(tmp, String(process.pid), { mode: 0o600 });
  await utimes(tmp, checkedAt, checkedAt);
  await rename(tmp, join(dir, CHECKED_FILE));
}

/** Is there `bytes` of free space for this user on the file system of `dir`? */
async function roomFor(dir: string, bytes: number): Promise<boolean> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize >= bytes;
  } catch {
    return true; // cannot tell: the write itself will say
  }
}

/** Temp files and in-flight markers of earlier prefetchers (killed mid-fetch): this one holds the spool now. */
async function removeTempFiles(dir: string): Promise<void> {
  for (const e of await readdir(dir)) {
    if ((e.startsWith(SPOOL_TMP_PREFIX) && !e.startsWith(`${SPOOL_TMP_PREFIX}want-`)) || e.startsWith(INFLIGHT_PREFIX))
      await unlink(join(dir, e)).catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Create the pid file exclusively; replace it when its owner is gone. */
function claim(dir: string): Promise<boolean> {
  return claimPidFile(join(dir, PID_FILE), () => prefetcherRunning(dir));
}
