/**
 * Wakes the background pusher when the archiver queues a file: an inotify watch (fs.watch) on
 * pg_wal/archive_status, so a new `.ready` is taken at once instead of at the next tick. The
 * tick stays: where no watch can be set (some network file systems) or an event is lost, the
 * pusher still reads the queue every tick.
 */
import { type FSWatcher, watch } from 'node:fs';
import { join } from 'node:path';

export interface ReadyWatch {
  /** Resolves at the next change in archive_status, or after `ms`, whichever comes first. */
  next(ms: number): Promise<void>;
  close(): void;
}

export function watchReady(pgWalDir: string): ReadyWatch {
  // One wait at a time: a wait still pending (the pusher woke for another reason) is returned
  // again, so a change always reaches the wait the pusher is in, or is kept for the next one.
  let pending: { promise: Promise<void>; end: () => void } | undefined;
  let changed = false;
  const onChange = () => {
    if (pending) pending.end();
    else changed = true;
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(join(pgWalDir, 'archive_status'), { persistent: false }, onChange);
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined; // no watch here: the tick alone
  }
  return {
    next(ms) {
      if (changed) {
        changed = false;
        return Promise.resolve();
      }
      if (!pending) {
        let end = () => {};
        const promise = new Promise<void>((resolve) => {
          const timer = setTimeout(() => end(), ms);
          end = () => {
            clearTimeout(timer);
            pending = undefined;
            resolve();
          };
        });
        pending = { promise, end };
      }
      return pending.promise;
    },
    close() {
      watcher?.close();
      pending?.end();
    },
  };
}
