/**
 * Bounding a hot backup's wait for WAL archiving. At its end a hot backup waits until the server
 * has archived the last WAL segment it needs (pg_backup_stop(wait_for_archive) for `local`,
 * BASE_BACKUP's WAIT for `stream`): without a working archive_command that wait never ends.
 *
 * While the backup's server process (`waiterPid`) waits, a second session watches
 * pg_stat_archiver once a second. The wait fails
 * - as soon as the archiver is failing: a full round of its retries (3 new failures) since the
 *   wait began, or a last failure newer than the last success for 10 s;
 * - when it lasted longer than the archive timeout ([backup] archive_timeout, default 60 s);
 * - on the interrupt signal (SIGINT/SIGTERM).
 * Then the waiting server process is terminated (a non-exclusive backup ends with its session;
 * a waiting walsender notices nothing else) and `failure` rejects with what the archiver said.
 * For `stream` the clock starts only when pg_stat_progress_basebackup shows the wait.
 */
import type pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { PgkeepError } from '../errors.js';
import { connect } from '../pg/connect.js';
import { archiverStats, type ArchiverStats } from '../pg/catalog.js';
import type { ClusterSettings } from '../config/types.js';
import { formatDuration } from '../config/duration.js';
import { archiverLogLines } from './archiver-log.js';

export const DEFAULT_ARCHIVE_TIMEOUT_MS = 60_000;
const POLL_MS = 1000;
/** PostgreSQL's archiver tries a segment 3 times in a row before it backs off. */
const FAILED_ROUND = 3;
const FAILING_FOR_MS = 10_000;
const WAITING_PHASE = 'waiting for wal archiving to finish';
/** A watch query unanswered this long means the server or the network is gone. */
const QUERY_MS = 15_000;

export interface ArchiveWatchOptions {
  settings: ClusterSettings;
  /** The server process that waits (the backup session, or the walsender of BASE_BACKUP). */
  waiterPid: number;
  /** 'now' (pg_backup_stop is about to wait) or 'basebackup' (when BASE_BACKUP reaches its wait). */
  startClock: 'now' | 'basebackup';
  timeoutMs?: number;
  signal?: AbortSignal;
  pollMs?: number;
}

export class ArchiveWatch {
  /** Rejects when the wait must end (see above); never resolves. Race it against the waiting call. */
  readonly failure: Promise<never>;
  private reject!: (e: unknown) => void;
  private stopped = false;
  /** Why the watch ended the wait (set before the waiting process is terminated). */
  endedWith: unknown;
  private readonly stopController = new AbortController();

  private constructor(
    private readonly o: ArchiveWatchOptions,
    private readonly client: pg.Client,
    private baseline: ArchiverStats,
  ) {
    this.failure = new Promise<never>((_, reject) => {
      this.reject = reject;
    });
    this.failure.catch(() => undefined);
    void this.loop();
  }

  /** Start watching; `unavailable` (with the reason) when no SQL session can be opened for it. */
  static async start(o: ArchiveWatchOptions): Promise<ArchiveWatch | { unavailable: string }> {
    let client: pg.Client;
    try {
      client = await connect(o.settings, { signal: o.signal, applicationName: 'pgkeep backup (archive watch)' });
    } catch (e) {
      if (o.signal?.aborted) throw e;
      return { unavailable: e instanceof Error ? e.message : String(e) };
    }
    try {
      return new ArchiveWatch(o, client, await archiverStats(client));
    } catch (e) {
      await client.end().catch(() => undefined);
      if (o.signal?.aborted) throw e;
      return { unavailable: e instanceof Error ? e.message : String(e) };
    }
  }

  get timeoutMs(): number {
    return this.o.timeoutMs ?? DEFAULT_ARCHIVE_TIMEOUT_MS;
  }

  /** The wait ended (either way): stop watching and close the session. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopController.abort();
    // a dead network would hold a polite goodbye: drop the socket after a moment
    const drop = setTimeout(
      () => (this.client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy(),
      3000,
    );
    await this.client.end().catch(() => undefined);
    clearTimeout(drop);
  }

  private async loop(): Promise<void> {
    let clockFrom = this.o.startClock === 'now' ? Date.now() : undefined;
    let failingSince: number | undefined;
    const signal = this.o.signal ? AbortSignal.any([this.o.signal, this.stopController.signal]) : this.stopController.signal;
    try {
      while (!this.stopped) {
        try {
          await sleep(this.o.pollMs ?? POLL_MS, undefined, { signal });
        } catch {
          if (this.stopped) return;
          return await this.end(
            this.o.signal!.reason instanceof PgkeepError ? this.o.signal!.reason : new PgkeepError('INTERRUPTED', 'interrupted'),
          );
        }
        if (clockFrom === undefined) {
          if (!(await this.answered(this.waiting()))) continue;
          clockFrom = Date.now();
          // failures counted from the start of the wait, not of the (maybe hours long) copy
          this.baseline = await this.answered(archiverStats(this.client));
        }
        const s = await this.answered(archiverStats(this.client));
        const failing = s.lastFailedTime !== null && (s.lastArchivedTime === null || s.lastFailedTime > s.lastArchivedTime);
        failingSince = failing ? (failingSince ?? Date.now()) : undefined;
        if (
          s.failedCount - this.baseline.failedCount >= FAILED_ROUND ||
          (failingSince !== undefined && Date.now() - failingSince >= FAILING_FOR_MS)
        ) {
          return await this.end(await this.archiverFailed(s));
        }
        if (Date.now() - clockFrom >= this.timeoutMs) return await this.end(await this.timedOut(s));
      }
    } catch (e) {
      if (this.stopped) return;
      await this.end(
        e instanceof PgkeepError
          ? e
          : new PgkeepError('CONNECTION', `lost the session that watches WAL archiving: ${e instanceof Error ? e.message : String(e)}`, {
              hint: 'check the server and the network, then run the backup again',
              cause: e,
            }),
      );
    }
  }

  /** A watch query's answer, or an error when the server does not give it within QUERY_MS. */
  private async answered<T>(q: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new PgkeepError('CONNECTION', `the server did not answer the archive watch within ${QUERY_MS / 1000} s`, {
              hint: 'check that the server is up and reachable (network, load), then run the backup again',
            }),
          ),
        QUERY_MS,
      );
    });
    q.catch(() => undefined);
    try {
      return await Promise.race([q, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async waiting(): Promise<boolean> {
    const { rows } = await this.client.query('SELECT phase FROM pg_stat_progress_basebackup WHERE pid = $1', [this.o.waiterPid]);
    return rows[0]?.phase === WAITING_PHASE;
  }

  /** Terminate the waiting server process, then fail the wait. */
  private async end(err: unknown): Promise<void> {
    if (this.stopped) return;
    this.endedWith = err;
    await this.answered(this.client.query('SELECT pg_terminate_backend($1)', [this.o.waiterPid])).catch(() => undefined);
    this.reject(err);
  }

  private async archiverFailed(s: ArchiverStats): Promise<PgkeepError> {
    const log = await this.answered(archiverLogLines(this.client)).catch(() => []);
    const count = s.failedCount - this.baseline.failedCount;
    return new PgkeepError(
      'SERVER_NOT_READY',
      `WAL archiving is failing on the server: archive_command failed ${count > 0 ? `${count} time(s) while the backup waited` : 'and has not succeeded since'}, ` +
        `last for ${s.lastFailedWal ?? '?'} at ${s.lastFailedTime?.toISOString() ?? '?'}; the backup cannot be complete without its WAL and was not stored` +
        (log.length ? `\nserver log:\n  ${log.join('\n  ')}` : ''),
      {
        hint:
          `fix archive_command${log.length ? '' : ' (the server log has its error message)'}: "pgkeep doctor --method archive" checks it; ` +
          'then run the backup again (or use --standalone, which stores the WAL with the backup)',
        details: {
          lastFailedWal: s.lastFailedWal,
          lastFailedTime: s.lastFailedTime,
          failedCount: s.failedCount,
          lastArchivedWal: s.lastArchivedWal,
        },
      },
    );
  }

  private async timedOut(s: ArchiverStats): Promise<PgkeepError> {
    return new PgkeepError(
      'SERVER_NOT_READY',
      `the server did not archive the backup's last WAL segment within ${formatDuration(this.timeoutMs)} (archive_timeout); ` +
        `last archived: ${s.lastArchivedWal ?? 'none'}${s.lastArchivedTime ? ` at ${s.lastArchivedTime.toISOString()}` : ''}` +
        `${s.failedCount > this.baseline.failedCount ? `, ${s.failedCount - this.baseline.failedCount} failure(s), last for ${s.lastFailedWal}` : ', no failures'}; the backup was not stored`,
      {
        hint:
          'archiving is slow or stuck (a backlog in pg_wal/archive_status, a slow archive_command): check pg_stat_archiver and the ' +
          'server log; raise [backup] archive_timeout / --archive-timeout if the archiver is only slow, or use --standalone',
        details: { timeoutMs: this.timeoutMs, lastArchivedWal: s.lastArchivedWal, failedCount: s.failedCount },
      },
    );
  }
}

/**
 * Run `wait` (the call that waits for archiving) under a watch; without a watch session the
 * caller decided what to do. The watch's failure wins the race; the waiting call's own error
 * (its session was terminated) is then dropped.
 */
export async function underArchiveWatch<T>(watch: ArchiveWatch, wait: Promise<T>): Promise<T> {
  wait.catch(() => undefined);
  try {
    return await Promise.race([wait, watch.failure]);
  } catch (e) {
    throw watch.endedWith ?? e;
  } finally {
    await watch.stop();
  }
}
