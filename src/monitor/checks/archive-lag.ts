/** How far the archive is behind the server: segments waiting and for how long. */
import { segmentNumberOf } from '../../pg/wal-name.js';
import type { ArchiveLag, ClusterFacts } from '../types.js';

/**
 * Completed segments not archived yet: the `.ready` files when the data directory is readable,
 * else counted from the segment being written and the last one archived (same timeline only).
 */
function backlog(f: ClusterFacts): number | null {
  if (f.readyCount !== undefined) return f.readyCount;
  const s = f.server;
  if (!s?.currentWalFile || s.inRecovery) return null;
  const last = s.archiver.lastArchivedWal;
  if (!last || last.length !== 24) return null;
  if (last.slice(0, 8) !== s.currentWalFile.slice(0, 8)) return null;
  const n = Number(segmentNumberOf(s.currentWalFile, s.segmentSize) - segmentNumberOf(last, s.segmentSize)) - 1;
  return Math.max(0, n);
}

export function archiveLag(f: ClusterFacts): ArchiveLag | null {
  const s = f.server;
  if (!s) return null;
  const a = s.archiver;
  const segments = backlog(f);
  const since = a.lastArchivedTime;
  const seconds =
    segments === 0 ? 0 : segments === null || !since ? null : Math.max(0, Math.round((f.at.getTime() - since.getTime()) / 1000));
  return {
    segments,
    seconds,
    lastArchivedWal: a.lastArchivedWal,
    lastArchivedTime: a.lastArchivedTime?.toISOString() ?? null,
    failedCount: a.failedCount,
    lastFailedWal: a.lastFailedWal,
    lastFailedTime: a.lastFailedTime?.toISOString() ?? null,
  };
}
