/**
 * A pool of push threads (push-thread.ts) for the background pusher: `push(path)` hands the file
 * to the least busy thread with a free slot (or waits for one) and resolves to what the
 * synchronous push returns, or rejects with its PgkeepError. A thread that dies fails its file;
 * the pusher retries it.
 *
 * Each thread takes FILES_PER_THREAD files at once: compression is synchronous in the thread, the
 * reads, writes and fsyncs are not, so while one file is written and fsynced (about 15 ms here for
 * a 16 MB segment) the thread compresses the next one instead of waiting. The number of threads
 * (the cores compressing) stays push_jobs.
 */
import { Worker } from 'node:worker_threads';
import { PgkeepError, type ErrorCode } from '../../errors.js';
import type { PushThreadData, PushThreadReply } from './push-thread.js';

export interface PushedFile {
  key: string;
  bytes: number;
  status: string;
}

export interface PushThreads {
  push(path: string): Promise<PushedFile>;
  close(): Promise<void>;
}

/** Files one push thread holds at once: one compressing while the other is written. */
export const FILES_PER_THREAD = 2;

export function startPushThreads(n: number, data: PushThreadData): PushThreads {
  const url = new URL('./push-thread.js', import.meta.url);
  const busy = new Map<Worker, number>();
  const waiting: ((w: Worker | undefined) => void)[] = [];
  const pending = new Map<number, { resolve: (r: PushedFile) => void; reject: (e: unknown) => void; worker: Worker }>();
  let nextId = 1;
  const release = (w: Worker) => {
    if (busy.has(w)) busy.set(w, busy.get(w)! - 1);
    const next = waiting.shift();
    if (next) take(next);
  };
  /** The least busy thread with a free slot, counted as taken, given to `to`; false when all are full. */
  const take = (to: (w: Worker) => void): boolean => {
    let best: Worker | undefined;
    for (const [w, k] of busy) if (k < FILES_PER_THREAD && (best === undefined || k < busy.get(best)!)) best = w;
    if (!best) return false;
    busy.set(best, busy.get(best)! + 1);
    to(best);
    return true;
  };
  const workers = Array.from({ length: n }, () => {
    const w = new Worker(url, { workerData: data });
    w.on('message', (r: PushThreadReply) => {
      const p = pending.get(r.id);
      if (!p) return;
      pending.delete(r.id);
      if (r.ok) p.resolve({ key: r.key, bytes: r.bytes, status: r.status });
      else
        p.reject(
          new PgkeepError(r.code as ErrorCode, r.message, {
            ...(r.hint ? { hint: r.hint } : {}),
            ...(r.details ? { details: r.details } : {}),
          }),
        );
      release(w);
    });
    w.on('error', (e) => {
      busy.delete(w); // the thread is gone: no more files for it
      for (const [id, p] of pending) {
        if (p.worker !== w) continue;
        pending.delete(id);
        p.reject(e);
      }
      if (busy.size === 0) for (const r of waiting.splice(0)) r(undefined);
    });
    busy.set(w, 0);
    return w;
  });
  return {
    async push(path) {
      const w = await new Promise<Worker | undefined>((r) => {
        if (busy.size === 0) r(undefined);
        else if (!take(r)) waiting.push(r);
      });
      if (!w)
        throw new PgkeepError('INTERNAL', 'every push thread of the background pusher died', { hint: 'see pusher.log in the push spool' });
      const id = nextId++;
      return new Promise<PushedFile>((resolve, reject) => {
        pending.set(id, { resolve, reject, worker: w });
        w.postMessage({ id, path });
      });
    },
    async close() {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((r) => {
              w.once('exit', () => r());
              w.postMessage('close');
              setTimeout(() => void w.terminate(), 5000).unref();
            }),
        ),
      );
    },
  };
}
