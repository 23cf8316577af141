/** The counters of a restore, all at zero. */
import type { RestoreStats } from './types.js';

export function newRestoreStats(): RestoreStats {
  return {
    entries: 0,
    files: 0,
    bytes: 0,
    filesWritten: 0,
    filesUnchanged: 0,
    chunksWritten: 0,
    chunksUnchanged: 0,
    bytesWritten: 0,
    filesRemoved: 0,
    directoriesCreated: 0,
    symlinksCreated: 0,
  };
}
