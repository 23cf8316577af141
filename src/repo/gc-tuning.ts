/**
 * Garbage collector setting for storing bulk data (applied when a snapshot writer starts).
 * Storing gigabytes can allocate gigabytes of short-lived buffers (a streamed backup's socket
 * reads, protocol messages and copies of file data) while the JavaScript heap itself stays small.
 * V8 counts those bytes towards its limits and, with incremental marking, starts a full marking
 * cycle every few megabytes: measured on a 2.6 GB streamed backup, a quarter to a third of the
 * process's CPU time went to a few hundred full collections of a 10 MB heap (and to the
 * concurrent marking threads, which compete with the blob workers for the two cores). Without
 * incremental marking V8 collects only when a limit is really reached, atomically: on a small
 * heap a pause of a few milliseconds. (Reading back showed no such effect: it is not applied there.)
 *
 * The setting is process-wide and stays for the life of the process (pgkeep is a CLI; a library
 * user gets the same collector behaviour, with longer but far fewer pauses). Turning it back on
 * while a marking cycle might be under way is not something V8 supports, so it never is.
 */
import { setFlagsFromString } from 'node:v8';

let applied = false;

export function tuneGcForBulkData(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString('--no-incremental-marking');
}
