/**
 * A pool of push threads (push-thread.ts) for the background pusher: `push(path)` hands the file
 * to an idle thread (or waits for one) and resolves to what the synchronous push returns, or
 * rejects with its PgkeepError. A thread that dies fails its file; the pusher retries it.
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

export function startPushThreads(n: number, data: PushThreadData): PushThreads {
  const url = new URL('./push-thread.js', import.meta.url);
  const idle: Worker[] = [];
  const waiting: ((w: Worker) => void)[] = [];
  const pending = new Map<number, { resolve: (r: PushedFile) => void; reject: (e: unknown) => void; worker: Worker }>();
  let nextId = 1;
  const release = (w: Worker) => {
    const next = waiting.shift();
    if (next) next(w);
    else idle.push(w);
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
      for (const [id, p] of pending) {
        if (p.worker !== w) continue;
        pending.delete(id);
        p.reject(e);
      }
    });
    idle.push(w);
    return w;
  });
  return {
    async push(path) {
      const w = idle.pop() ?? (await new Promise<Worker>((r) => waiting.push(r)));
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
