/**
 * Which WAL a restore recovers with, and up to where: the snapshot's own (pg_wal/ of a standalone
 * or cold backup), the archive's (the segments reachable without a gap on the timeline path), and
 * the end of it — so the result can say what the restored cluster holds (its recovery point). Pure.
 */
import type { PhysicalBackupMeta } from '../../holdings/physical-meta.js';
import { backupFirstSegment } from '../../holdings/physical-meta.js';
import { timelineOfSegment } from '../../pg/wal/timelines.js';
import { segmentName, segmentObject, type ArchiveFacts, type SegmentRun } from './archive.js';
import type { ArchiveGap, ArchiveReach, WalUsed } from './types.js';

export function describeWal(
  facts: ArchiveFacts,
  b: PhysicalBackupMeta,
  run: SegmentRun,
  reach: ArchiveReach | undefined,
  gap: ArchiveGap | undefined,
): WalUsed {
  const fromBackup =
    b.standalone && b.walStart
      ? { first: b.walStart, last: b.walEnd }
      : !b.walStart
        ? { first: backupFirstSegment(b), last: backupFirstSegment(b) }
        : undefined;
  let first: bigint | undefined;
  let last: bigint | undefined;
  for (let s = run.first; run.last !== undefined && s <= run.last; s++) {
    if (!segmentObject(facts, run, s)) continue;
    first ??= s;
    last = s;
  }
  const fromArchive =
    first !== undefined && last !== undefined
      ? {
          timeline: timelineOfSegment(run.path, last, facts.segmentSize),
          first: segmentName(facts, run, first),
          last: segmentName(facts, run, last),
        }
      : undefined;
  const upTo: WalUsed['upTo'] =
    reach?.lastRecordLsn && fromArchive
      ? { lsn: reach.lastRecordLsn, segment: reach.lastSegment!, what: 'record' }
      : fromArchive && reach
        ? { lsn: reach.endLsn, segment: reach.lastSegment!, what: 'segment-end' }
        : { lsn: b.stopLsn, segment: fromBackup?.last ?? segmentName(facts, run, run.needed), what: 'backup-end' };
  return { ...(fromBackup ? { fromBackup } : {}), ...(fromArchive ? { fromArchive } : {}), upTo, ...(gap ? { gap } : {}) };
}

/** Does the archive hold WAL at or after the backup's end (for a cold backup: its checkpoint's segment, which it fills later)? */
export function archiveReachesPastBackup(w: WalUsed, b: PhysicalBackupMeta): boolean {
  const end = b.walEnd || backupFirstSegment(b);
  return w.fromArchive !== undefined && w.fromArchive.last.slice(8) >= end.slice(8);
}
