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
 * archive lacks (the end of the archive), checks that one again every RECHECK_MS until recovery
 * moves on, exits when recovery has asked for nothing new for `idleMs`, when its spool is
 * removed (recovery ended) and on SIGTERM.
 *
 * For the sh front it also records "not in the archive as of T" for the segment past the end
 * and for the timeline history files recovery probes (absent.ts, prefetch-history.ts), and keeps
 * a second link to each entry (spool.ts) so that the re-read of the last segment at the end of
 * recovery is served from the spool too. Started by `pgkeep restore` (`first`: the backup's
 * first segment), the spool holds the first segments before the server starts.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, statfs, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';
import { isWalFileName, nextWalFileName } from '../pg/wal-name.js';
import { walObjectName } from '../holdings/wal-layout.js';
import {
  KEPT_PREFIX,
  pruneSpool,
  putInSpool,
  segmentContentProblem,
  spoolChecksum,
  spoolEntries,
  spooledContentProblem,
  SPOOL_TMP_PREFIX,
} from './spool.js';
import { ABSENT_PREFIX, checkAndRecord, RECHECK_MS } from './absent.js';
import { HistoryWatch } from './prefetch-history.js';
import { changesOf } from './dir-changes.js';
import { processAlive } from '../pg/process-alive.js';
import { claimPidFile } from './pid-file.js';
import {
  CHECKED_FILE,
  INFLIGHT_PREFIX,
  READY_FILE,
  inflightMarker,
  NOW_FILE,
  PID_FILE,
  prefetcherRunning,
  readWant,
  SOURCE_FILE,
  spoolSource,
} from './prefetch-files.js';

export {
  awaitInflight,
  CHECKED_FILE,
  inflightMarker,
  prefetcherPid,
  prefetcherRunning,
  recordServed,
  SOURCE_FILE,
  spoolSource,
} from './prefetch-files.js';

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
  /** Fetch from this segment on until recovery asks for anything (`pgkeep restore`: the backup's first segment). */
  first?: string;
  /** With `first`: how long to wait for recovery's first request (default 60 s: the server may be started by hand). */
  firstWaitMs?: number;
  /** How often names the archive lacks are checked again (default RECHECK_MS). */
  recheckMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
  /** The repository as the command line named it: recorded in the spool's .source with the cluster. */
  repoLocation?: string;
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

type Fetch = { name: string; done: Promise<void> };

export async function runPrefetch(repo: Pick<Repository, 'getObject'>, opts: PrefetchOptions): Promise<PrefetchResult> {
  const result: PrefetchResult = { fetched: [], missing: [], diskFull: 0, stop: 'busy' };
  const dir = opts.spoolDir;
  if (opts.first !== undefined && !/^[0-9A-F]{24}$/.test(opts.first))
    throw new PgkeepError('USAGE', `--from must name a WAL segment (24 hexadecimal digits), not "${opts.first}"`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!(await claim(dir))) return result;
  const concurrency = opts.concurrency ?? 2;
  const idleMs = opts.idleMs ?? 15_000;
  const watcher = changesOf(dir);
  // Woken by every change in the spool (inotify: .want, entries, markers); polled slowly besides, for the rechecks.
  const pollMs = opts.pollMs ?? (watcher.watching ? 250 : 50);
  const recheckMs = opts.recheckMs ?? RECHECK_MS;
  const firstWaitMs = opts.firstWaitMs ?? 60_000;
  const reserve = opts.reserveBytes ?? 4 * opts.segmentSize;
  const inflight = new Map<string, Fetch>();
  const announced = new Set<string>(); // names with a .fetching- marker: in flight, or next to fetch
  let want: string | undefined;
  let wantSince = Date.now();
  let endOfArchive: string | undefined; // a segment of the current window the archive lacks
  let endCheckedAt = 0;
  let pausedUntil = 0; // after a full disk
  let fatal: unknown;
  let spoolGone = false;
  let readySaid = false;
  // Objects whose content does not fit their name: never spooled, never fetched again by this prefetcher.
  const refused = new Set<string>();
  const checkedAt = new Date(Date.now() - 1000);
  const getOrMissing = async (name: string): Promise<Buffer | undefined> => {
    try {
      return await repo.getObject(walObjectName(opts.cluster, opts.systemIdentifier, name));
    } catch (e) {
      if (e instanceof PgkeepError && e.code === 'NOT_FOUND') return undefined;
      throw e;
    }
  };
  const history = new HistoryWatch(async (name) => (await checkAndRecord(dir, name, () => getOrMissing(name))) !== undefined, recheckMs);

  const fetchOne = (name: string): Fetch => {
    const marker = inflightMarker(dir, name);
    const done = (async () => {
      await writeFile(marker, '', { mode: 0o600 });
      const data = await checkAndRecord(dir, name, () => getOrMissing(name));
      if (data === undefined) {
        if (!endOfArchive || name < endOfArchive) endOfArchive = name;
        endCheckedAt = Date.now();
        if (!result.missing.includes(name)) result.missing.push(name);
        return;
      }
      if (endOfArchive === name) endOfArchive = undefined; // archived since: the window goes on
      const problem = segmentContentProblem(data, name, opts.systemIdentifier); // its CRC, once: the entry's name
      if (problem !== undefined) {
        refused.add(name); // a get reads it from the repository, and reports it there
        return;
      }
      try {
        await putInSpool(dir, name, data, checkedAt, spoolChecksum(data));
        result.fetched.push(name);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOSPC' || code === 'EDQUOT') {
          result.diskFull++;
          pausedUntil = Date.now() + 5_000;
        } else if (code === 'ENOENT') {
          // The spool removed (recovery ended), or only our temp file pruned by a get that passed it.
          spoolGone = !(await readdir(dir).then(
            () => true,
            () => false,
          ));
        } else throw e;
      }
    })()
      .catch((e) => {
        fatal ??= e;
      })
      .finally(async () => {
        announced.delete(name);
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
      // The spool removed and made again (a --delta restore over it): another prefetcher holds it now.
      if ((await readFile(join(dir, PID_FILE), 'utf8').catch(() => '')).trim() !== String(process.pid))
        return { ...result, stop: 'spool-removed' };
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
      const from = want ?? opts.first;
      if (from) history.follow(Number.parseInt(from.slice(0, 8), 16));
      const round = history.tick();
      if (round && opts.first !== undefined && !readySaid) {
        readySaid = true; // once: nothing made again under a removal
        void round.then(() => writeFile(join(dir, READY_FILE), '', { mode: 0o600 }).catch(() => undefined));
      }
      const window = want ? segmentsAfter(want, opts.count, opts.segmentSize) : opts.first ? firstWindow(opts.first) : [];
      const started = (await startFetches(window)) + recheckEnd();
      const idleLimit = want ? idleMs : Math.max(idleMs, firstWaitMs);
      if (started === 0 && inflight.size === 0 && Date.now() - wantSince > idleLimit) return { ...result, stop: 'idle' };
      await Promise.race([sleep(pollMs), watcher.next(), ...[...inflight.values()].map((f) => f.done)]);
    }
  } finally {
    watcher.close();
    await Promise.allSettled([...inflight.values()].map((f) => f.done));
    await history.settled();
    await Promise.all([...announced].map((n) => unlink(inflightMarker(dir, n)).catch(() => undefined)));
    await unlink(join(dir, CHECKED_FILE)).catch(() => undefined);
    await unlink(join(dir, READY_FILE)).catch(() => undefined);
    await unlink(join(dir, PID_FILE)).catch(() => undefined);
  }

  function firstWindow(first: string): string[] {
    return [first, ...segmentsAfter(first, opts.count - 1, opts.segmentSize)];
  }

  /** The segment past the end of the archive, checked again every recheckMs (1 when a check started). */
  function recheckEnd(): number {
    const name = endOfArchive;
    if (!name || inflight.has(name) || Date.now() < pausedUntil || Date.now() - endCheckedAt < recheckMs) return 0;
    if (!want && !existsSync(join(dir, NOW_FILE))) return 0; // no server yet: create nothing (see absent.ts)
    endCheckedAt = Date.now();
    inflight.set(name, fetchOne(name));
    return 1;
  }

  /**
   * Announce (`.fetching-<name>`) every segment of the window this prefetcher will put in the
   * spool, so that a get waits for it rather than reading it itself, and start the first ones.
   * Before recovery asked for anything (no .want, no .now), only the first two are fetched: at
   * its start the server fsyncs every file under the data directory (SyncDataDirectory, after a
   * crash or from a base backup), the spool in pg_wal included.
   */
  async function startFetches(window: string[]): Promise<number> {
    const eligible: string[] = [];
    if (Date.now() >= pausedUntil && window.length > 0 && (await roomFor(dir, opts.segmentSize + reserve))) {
      const entries = await spoolEntries(dir);
      // Nothing made again under a removal (ENOTEMPTY): the main loop stops.
      if (await removedBeforeServer(entries)) {
        spoolGone = true;
        return 0;
      }
      let held = entries.size + inflight.size;
      for (const name of window) {
        if (endOfArchive && name.slice(8) >= endOfArchive.slice(8)) break;
        if (entries.has(name) || refused.has(name)) continue;
        if (!inflight.has(name)) {
          if (held > 0 && (held + 1) * opts.segmentSize > opts.maxBytes) break;
          held++;
        }
        eligible.push(name);
      }
    }
    // No await from the listing above to the starts: a fetch ending meanwhile would be started again.
    const fetchable = want || existsSync(join(dir, NOW_FILE)) ? eligible : eligible.filter((n) => window.indexOf(n) < 2);
    let started = 0;
    for (const name of fetchable) {
      if (inflight.size >= concurrency) break;
      if (inflight.has(name)) continue;
      inflight.set(name, fetchOne(name));
      started++;
    }
    await announce(eligible);
    return started;
  }

  /** Before the server asks, only a removal (`rm -rf` of a data directory never started) takes an entry out: a get records `.want` first. */
  async function removedBeforeServer(entries: Map<string, string>): Promise<boolean> {
    if (want || !result.fetched.some((n) => !entries.has(n))) return false;
    return !(await readWant(dir)) && !existsSync(join(dir, NOW_FILE));
  }

  /** Markers for exactly `names` (and what is in flight). */
  async function announce(names: string[]): Promise<void> {
    const keep = new Set(names);
    for (const n of names) {
      if (announced.has(n) || inflight.has(n)) continue; // in flight: fetchOne wrote it
      // A spool removed meanwhile: the main loop sees it.
      if (
        await writeFile(inflightMarker(dir, n), '', { mode: 0o600 }).then(
          () => true,
          () => false,
        )
      )
        announced.add(n);
    }
    for (const n of announced) {
      if (keep.has(n) || inflight.has(n)) continue;
      announced.delete(n);
      await unlink(inflightMarker(dir, n)).catch(() => undefined);
    }
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

/** Temp files, in-flight markers, "absent" answers and kept links of earlier prefetchers (killed mid-fetch): this one holds the spool now. */
async function removeTempFiles(dir: string): Promise<void> {
  for (const e of await readdir(dir)) {
    if (
      (e.startsWith(SPOOL_TMP_PREFIX) && !e.startsWith(`${SPOOL_TMP_PREFIX}want-`)) ||
      e.startsWith(INFLIGHT_PREFIX) ||
      e === READY_FILE ||
      e.startsWith(ABSENT_PREFIX) ||
      e.startsWith(KEPT_PREFIX)
    )
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
