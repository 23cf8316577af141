/**
 * `wal push` (archive_command) with [archive] async on. In order:
 *
 *   acknowledged in the spool?                -> 0 at once
 *   not a file the archiver queued (.ready)?  -> push it synchronously (a manual push)
 *   run as root in a pg_wal owned by another? -> push it synchronously (the spool stays the server user's)
 *   make sure the one background pusher runs (start it detached) -> wait for the acknowledgement:
 *     - acknowledged                          -> 0
 *     - the pusher failed on this file        -> push it here once: 0 if that works (the pusher's
 *                                                trouble was its own, e.g. a full spool disk), else
 *                                                the error (non-zero: PostgreSQL retries)
 *     - the pusher does not start, or stops making progress -> push it synchronously
 *     - no answer within waitMs               -> a timeout error (non-zero: PostgreSQL retries)
 *
 * Only node:fs and small modules are loaded here; the repository code is loaded by `pushNow`,
 * when a synchronous push is needed.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, PgkeepError, type ErrorCode } from '../../errors.js';
import { isAcknowledged, pushSpoolPlace } from './acks.js';
import { pusherRunning } from './lock.js';
import { readPushStatus } from './status.js';
import { startDetached } from '../start-detached.js';

export interface PusherLaunch {
  spoolDir: string;
  pgWalDir: string;
}

export interface AsyncPushOptions {
  /** %p. */
  path: string;
  cwd?: string;
  pgdata?: string;
  cluster: string;
  /** The repository path as configured (the spool is keyed by it). */
  repoPath: string;
  /** [archive] spool_path; default <pg_wal>/pgkeep-spool. */
  spoolPath?: string;
  /** Longest wait for the acknowledgement. */
  waitMs: number;
  /** A pusher whose heartbeat is older than this is not making progress. */
  stallMs: number;
  /** Arguments (after node) of the detached pusher. */
  pusherArgv: (l: PusherLaunch) => string[];
  /** The synchronous push. */
  pushNow: () => Promise<void>;
}

export interface AsyncPushResult {
  file: string;
  /** acknowledged: it was already; pusher: the pusher stored it while we waited; sync: pushed here. */
  via: 'acknowledged' | 'pusher' | 'sync';
  /** Why it was pushed synchronously. */
  reason?: string;
  /** Something the administrator should fix (the push itself succeeded). */
  warning?: string;
  spoolDir?: string;
}

const POLL_MS = 10;
/** A started pusher that holds no lock after this long did not start. */
const START_MS = 3000;
const MAX_STARTS = 2;

export async function pushAsync(opts: AsyncPushOptions): Promise<AsyncPushResult> {
  const cwd = opts.cwd ?? process.cwd();
  const { file, pgWalDir, spoolDir } = pushSpoolPlace({ ...opts, cwd });
  const sync = async (reason: string): Promise<AsyncPushResult> => {
    await opts.pushNow();
    return { file, via: 'sync', reason, spoolDir };
  };

  if (isAcknowledged(spoolDir, file)) return { file, via: 'acknowledged', spoolDir };
  if (!existsSync(join(pgWalDir, 'archive_status', `${file}.ready`))) return sync('the archiver has not queued it (no .ready)');
  if (process.getuid?.() === 0 && ownerOf(pgWalDir) !== 0) return sync("run as root: the spool belongs to the server's OS user");

  try {
    mkdirSync(spoolDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    return {
      ...(await sync('the spool cannot be created')),
      warning:
        `cannot create the push spool ${spoolDir} ` +
        `(${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): pushed synchronously; set [archive] spool_path to a directory the server's OS user can write`,
    };
  }
  const start = Date.now();
  let startedAt: number | undefined;
  let starts = 0;
  for (;;) {
    if (isAcknowledged(spoolDir, file)) return { file, via: 'pusher', spoolDir };
    const status = readPushStatus(spoolDir);
    const failed = status?.failing?.find((f) => f.file === file && Date.parse(f.at) >= start - 1000);
    if (failed) {
      // Once more here: the pusher may have failed on its side only (its spool's disk is full,
      // a thread died) while the repository is fine. A real failure fails again, with its own error.
      try {
        return await sync(`the background pusher failed: ${failed.message}`);
      } catch (e) {
        const code: ErrorCode = failed.code in ERROR_CODES ? (failed.code as ErrorCode) : 'REPOSITORY';
        if (e instanceof PgkeepError) throw e;
        throw new PgkeepError(code, `${file} was not archived: ${failed.message}`, {
          hint: `${failed.hint ? `${failed.hint}; ` : ''}PostgreSQL retries; the background pusher's state is in ${join(spoolDir, 'status.json')}`,
          details: { file, spoolDir },
        });
      }
    }
    const now = Date.now();
    if (!pusherRunning(spoolDir)) {
      if (startedAt === undefined || now - startedAt > START_MS) {
        if (starts >= MAX_STARTS) return sync(`the background pusher does not start (see ${join(spoolDir, 'pusher.log')})`);
        startDetached(opts.pusherArgv({ spoolDir, pgWalDir }), spoolDir, 'pusher.log', cwd);
        starts++;
        startedAt = now;
      }
    } else if (status && now - start > opts.stallMs && now - Date.parse(status.heartbeatAt) > opts.stallMs) {
      return sync(`the background pusher (pid ${status.pid}) has made no progress for ${Math.round(opts.stallMs / 1000)}s`);
    }
    if (now - start > opts.waitMs) {
      throw new PgkeepError(
        'REPOSITORY',
        `${file} was not acknowledged by the background pusher within ${Math.round(opts.waitMs / 1000)}s`,
        {
          hint: `PostgreSQL retries; see ${join(spoolDir, 'status.json')} and pusher.log there, or set [archive] async = false`,
          details: { file, spoolDir },
        },
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function ownerOf(path: string): number | undefined {
  try {
    return statSync(path).uid;
  } catch {
    return undefined;
  }
}
