/** Changes in a directory, as a wait the prefetcher's loop can race against its other wake-ups. */
import { watch, type FSWatcher } from 'node:fs';

/** The next change in `dir` (inotify through fs.watch); never, when it cannot be watched (then the loop polls). */
export function changesOf(dir: string): { watching: boolean; next: () => Promise<void>; close: () => void } {
  let wake: (() => void) | undefined;
  // Set by every change, cleared by the next wait, which then ends at once: no change is missed
  // while the loop runs (at the cost of one more turn after a wake-up).
  let changed = false;
  let w: FSWatcher | undefined;
  try {
    w = watch(dir, { persistent: false }, () => {
      changed = true;
      wake?.();
      wake = undefined;
    });
    w.on('error', () => undefined);
  } catch {
    w = undefined;
  }
  const next = (): Promise<void> => {
    if (!w) return new Promise<void>(() => undefined);
    if (changed) {
      changed = false;
      return Promise.resolve();
    }
    return new Promise<void>((r) => {
      wake = r;
    });
  };
  return { watching: w !== undefined, next, close: () => w?.close() };
}
