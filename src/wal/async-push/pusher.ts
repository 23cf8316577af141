/**
 * The background pusher: one per spool (lock.ts), started detached by the `wal push` that first
 * needs it. Each round it reads the archiver's queue (`.ready` files), stores up to `jobs` x 2
 * files at once (`jobs` compressing, push-threads.ts) straight from pg_wal with the same checks
 * as a synchronous push (push.ts: identity, content, write-once, same bytes = done, different =
 * refused), and acknowledges each one only after the repository write returned (ack-fifo.ts
 * wakes a waiting sh front). It never drops WAL: a growing queue raises an alert in status.json
 * and the pusher keeps going. It stops after `idleMs` with nothing to do, or after `failingMs` of
 * failures only (the next `wal push` starts it again), or when it lost its lock.
 */
import { join } from 'node:path';
import { toPgkeepError } from '../../errors.js';
import { pushWalFile } from '../push.js';
import type { Repository } from '../../repo/index.js';
import type { Codec } from '../../repo/codec.js';
import { bindRepository, pruneAcks, writeAck } from './acks.js';
import { claimPusherLock, holdsLock, releasePusherLock } from './lock.js';
import { readyFiles } from './ready-queue.js';
import { watchReady } from './ready-watch.js';
import { compressInOrder } from './compress-in-order.js';
import { createAckFifo, notifyAck } from './ack-fifo.js';
import { FILES_PER_THREAD, type PushedFile } from './push-threads.js';
import { writePushStatus, type PushStatus } from './status.js';

export interface PusherOptions {
  cluster: string;
  pgWalDir: string;
  pgdata?: string;
  /** [archive] compression. */
  codec?: Codec;
  spoolDir: string;
  jobs: number;
  queueAlertSegments: number;
  idleMs: number;
  failingMs: number;
  signal?: AbortSignal;
  /** How one file is stored (default: pushWalFile on `repo` in this thread; push-threads.ts uses other cores). */
  push?: (path: string) => Promise<PushedFile>;
  /** Progress for the log: a file stored, a failure, the alert raised or cleared. */
  onEvent?: (e: PusherEvent) => void;
}

export type PusherEvent =
  | { kind: 'pushed'; file: string; status: string }
  | { kind: 'failed'; file: string; message: string }
  | { kind: 'alert'; queueSegments: number; limit: number }
  | { kind: 'alert-cleared'; queueSegments: number }
  | { kind: 'repository-changed' };

export interface PusherResult {
  busy: boolean;
  pushed: number;
  exit?: PushStatus['state'];
}

type PushRepo = Parameters<typeof pushWalFile>[0] & { config: Pick<Repository['config'], 'id'> };

const TICK_MS = 50;
const BACKOFF_MAX_MS = 5000;

export async function runPusher(repo: PushRepo, opts: PusherOptions): Promise<PusherResult> {
  if (!(await claimPusherLock(opts.spoolDir))) return { busy: true, pushed: 0 };
  if (await bindRepository(opts.spoolDir, repo.config.id)) opts.onEvent?.({ kind: 'repository-changed' });
  createAckFifo(opts.spoolDir);
  const now = () => new Date().toISOString();
  const status: PushStatus = {
    version: 1,
    pid: process.pid,
    state: 'running',
    heartbeatAt: now(),
    startedAt: now(),
    queue: { segments: 0, oldest: null },
    alert: null,
    lastSuccess: null,
    lastError: null,
    failing: [],
    pushed: 0,
  };
  const inOrder = compressInOrder(repo);
  const push =
    opts.push ??
    ((path: string) => inOrder((r) => pushWalFile(r, { cluster: opts.cluster, path, pgdata: opts.pgdata, codec: opts.codec })));
  const inFlight = new Map<string, Promise<void>>();
  // `jobs` threads compress; each holds a second file whose write and fsync overlap the compression.
  const maxInFlight = opts.jobs * FILES_PER_THREAD;
  const failures = new Map<string, { count: number; retryAt: number }>();
  let idleSince = Date.now();
  let lastSuccessAt = Date.now();
  let dirty = true;
  let lastWrite = 0;

  const pushOne = async (file: string): Promise<void> => {
    try {
      const r = await push(join(opts.pgWalDir, file));
      await writeAck(opts.spoolDir, { file, key: r.key, bytes: r.bytes, at: now() });
      notifyAck(opts.spoolDir, file);
      failures.delete(file);
      status.pushed++;
      status.lastSuccess = { file, at: now() };
      status.lastError = null;
      status.failing = status.failing.filter((x) => x.file !== file);
      lastSuccessAt = Date.now();
      opts.onEvent?.({ kind: 'pushed', file, status: r.status });
    } catch (e) {
      const err = toPgkeepError(e);
      const f = failures.get(file) ?? { count: 0, retryAt: 0 };
      f.count++;
      f.retryAt = Date.now() + Math.min(250 * 2 ** (f.count - 1), BACKOFF_MAX_MS);
      failures.set(file, f);
      status.lastError = { file, code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}), at: now() };
      status.failing = [status.lastError, ...status.failing.filter((x) => x.file !== file)].slice(0, 32);
      opts.onEvent?.({ kind: 'failed', file, message: err.message });
    } finally {
      inFlight.delete(file);
      dirty = true;
    }
  };

  const queued = watchReady(opts.pgWalDir); // wakes the loop when the archiver queues a file
  try {
    for (;;) {
      if (opts.signal?.aborted || !holdsLock(opts.spoolDir)) break;
      const ready = await readyFiles(opts.pgWalDir);
      const acked = await pruneAcks(opts.spoolDir, new Set(ready));
      const waiting = ready.filter((f) => !acked.has(f));
      updateQueue(status, waiting, opts, now);
      forgetGone(failures, status, new Set(waiting));
      const due = waiting.filter((f) => !inFlight.has(f) && (failures.get(f)?.retryAt ?? 0) <= Date.now());
      for (const f of due.slice(0, Math.max(0, maxInFlight - inFlight.size))) inFlight.set(f, pushOne(f));
      if (waiting.length > 0) idleSince = Date.now();
      if (dirty || Date.now() - lastWrite >= 1000) {
        status.heartbeatAt = now();
        await writePushStatus(opts.spoolDir, status);
        dirty = false;
        lastWrite = Date.now();
      }
      if (inFlight.size === 0 && Date.now() - idleSince >= opts.idleMs) {
        status.state = 'idle-exit';
        break;
      }
      if (failures.size > 0 && inFlight.size === 0 && Date.now() - lastSuccessAt >= opts.failingMs) {
        status.state = 'failing-exit';
        break;
      }
      await Promise.race([queued.next(TICK_MS), ...inFlight.values()]);
    }
    await Promise.allSettled(inFlight.values());
    if (status.state === 'running') status.state = 'idle-exit';
    status.heartbeatAt = now();
    if (holdsLock(opts.spoolDir)) await writePushStatus(opts.spoolDir, status);
  } finally {
    queued.close();
    await releasePusherLock(opts.spoolDir);
  }
  return { busy: false, pushed: status.pushed, exit: status.state };
}

/** Files stored meanwhile (a push that stored it itself) or no longer queued are not failing any more. */
function forgetGone(failures: Map<string, unknown>, status: PushStatus, waiting: Set<string>): void {
  for (const f of failures.keys()) if (!waiting.has(f)) failures.delete(f);
  status.failing = status.failing.filter((x) => waiting.has(x.file));
}

function updateQueue(status: PushStatus, waiting: string[], opts: PusherOptions, now: () => string): void {
  status.queue = { segments: waiting.length, oldest: waiting[0] ?? null };
  if (waiting.length > opts.queueAlertSegments && !status.alert) {
    status.alert = { queueSegments: waiting.length, limit: opts.queueAlertSegments, since: now() };
    opts.onEvent?.({ kind: 'alert', queueSegments: waiting.length, limit: opts.queueAlertSegments });
  } else if (status.alert && waiting.length <= opts.queueAlertSegments) {
    status.alert = null;
    opts.onEvent?.({ kind: 'alert-cleared', queueSegments: waiting.length });
  } else if (status.alert) status.alert.queueSegments = waiting.length;
}
