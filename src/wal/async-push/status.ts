/**
 * status.json in the push spool: what the background pusher is doing, for `wal push` (is it
 * making progress? did it fail on my segment?) and for health checks. Written by temp file and
 * rename, so a reader sees a whole document or the previous one.
 */
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface PushError {
  file: string;
  /** PgkeepError code (errors.ts). */
  code: string;
  message: string;
  hint?: string;
  at: string;
}

export interface PushStatus {
  version: 1;
  pid: number;
  /** running; idle-exit: stopped after the idle period; failing-exit: stopped after failing only. */
  state: 'running' | 'idle-exit' | 'failing-exit';
  /** Refreshed at least every second while the pusher runs. */
  heartbeatAt: string;
  startedAt: string;
  /** `.ready` files not acknowledged yet (the archiver's backlog), and the oldest of them. */
  queue: { segments: number; oldest: string | null };
  /** Raised while the backlog exceeds [archive] queue_alert_segments; WAL is never dropped. */
  alert: { queueSegments: number; limit: number; since: string } | null;
  lastSuccess: { file: string; at: string } | null;
  /** The last failure; cleared by the next success. */
  lastError: PushError | null;
  /** The latest failure of each file that has not been stored yet (at most 32). */
  failing: PushError[];
  /** Files stored by this pusher run. */
  pushed: number;
}

export const STATUS_FILE = 'status.json';

export function readPushStatus(spoolDir: string): PushStatus | undefined {
  try {
    return JSON.parse(readFileSync(join(spoolDir, STATUS_FILE), 'utf8')) as PushStatus;
  } catch {
    return undefined;
  }
}

export async function writePushStatus(spoolDir: string, s: PushStatus): Promise<void> {
  const tmp = join(spoolDir, `.${STATUS_FILE}.${process.pid}`);
  await writeFile(tmp, JSON.stringify(s, null, 2) + '\n', { mode: 0o644 });
  await rename(tmp, join(spoolDir, STATUS_FILE));
}
