/**
 * Garbage collector setting for streamed backups. Receiving a base backup allocates gigabytes of
 * short-lived buffers (socket reads, protocol messages, copies of file data) while the JavaScript
 * heap itself stays small. V8 counts those bytes towards its heap limits and, with incremental
 * marking, starts a full marking cycle every few megabytes: measured on a 2.6 GB cluster, about
 * a third of the process's CPU time went to collections that found almost nothing (a few
 * hundred full cycles on a 10 MB heap, plus the concurrent marking threads competing with the
 * blob workers for the cores). Without incremental marking V8 collects only when a limit is
 * really reached, atomically, which on a small heap is a pause of a few milliseconds.
 *
 * The setting is process-wide and stays for the life of the process (a CLI run); turning it
 * back on while a marking cycle might be under way is not something V8 supports.
 */
import { setFlagsFromString } from 'node:v8';

let applied = false;

export function tuneGcForStreaming(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString('--no-incremental-marking');
}
