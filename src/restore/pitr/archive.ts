/**
 * The WAL archive of one system, as point-in-time recovery needs it: which segments are stored
 * per timeline, the timeline histories, and — for one backup and timeline path — the run of
 * segments recovery can fetch without a gap. Listing and history files only; no segment is read.
 */
import type { Repository } from '../../repo/index.js';
import { PgkeepError } from '../../errors.js';
import type { PhysicalBackupMeta } from '../../holdings/physical-meta.js';
import { parseLsn, segmentOfLsn, type Lsn } from '../../pg/lsn.js';
import { parseTimelineHistory, segmentNumberOf, walFileName, type TimelineHistoryEntry } from '../../pg/wal-name.js';
import { listArchive, type ArchivedFile } from '../../holdings/wal-listing.js';
import { backupFirstSegment } from '../../holdings/physical-meta.js';
import { timelineOfSegment, timelinePath, type TimelineSpan } from '../../pg/wal/timelines.js';

export interface ArchiveFacts {
  cluster: string;
  systemIdentifier: string;
  segmentSize: number;
  /** Complete segments stored, per timeline: segment number -> file. */
  segments: Map<number, Map<bigint, ArchivedFile>>;
  /** Parsed history files by timeline. */
  histories: Map<number, TimelineHistoryEntry[]>;
}

export async function readArchiveFacts(
  repo: Pick<Repository, 'listObjects' | 'getObject'>,
  cluster: string,
  systemIdentifier: string,
  segmentSize: number,
): Promise<ArchiveFacts> {
  const system = (await listArchive(repo, cluster)).get(systemIdentifier);
  const segments = new Map<number, Map<bigint, ArchivedFile>>();
  const histories = new Map<number, TimelineHistoryEntry[]>();
  for (const f of system?.files ?? []) {
    if (f.file.kind !== 'segment') continue;
    let m = segments.get(f.file.timeline);
    if (!m) segments.set(f.file.timeline, (m = new Map()));
    m.set(segmentNumberOf(f.file, segmentSize), f);
  }
  for (const [tli, f] of system?.histories ?? []) {
    try {
      histories.set(tli, parseTimelineHistory(await repo.getObject(f.object)));
    } catch (e) {
      if (!(e instanceof PgkeepError)) throw e;
      throw new PgkeepError('DATA_INTEGRITY', `the archive's history file of timeline ${tli} is unreadable: ${e.message}`, {
        hint: 'run "pgkeep wal check"; push the server\'s pg_wal/<timeline>.history again with "pgkeep wal push"',
        cause: e,
      });
    }
  }
  return { cluster, systemIdentifier, segmentSize, segments, histories };
}

/** The newest timeline PostgreSQL's 'latest' finds from `from`: it probes from+1, from+2, ... while a history file exists. */
export function newestTimeline(from: number, histories: Map<number, unknown>): number {
  let t = from;
  while (histories.has(t + 1)) t++;
  return t;
}

/** Is the backup on timeline `tli`'s history (started on an ancestor before it branched off)? */
export function backupOnTimeline(b: PhysicalBackupMeta, tli: number, histories: Map<number, TimelineHistoryEntry[]>): boolean {
  if (tli === b.timeline) return true;
  const span = timelinePath(tli, histories.get(tli) ?? []).find((s) => s.timeline === b.timeline);
  return Boolean(span && parseLsn(b.startLsn) >= span.begin && (span.end === undefined || parseLsn(b.stopLsn) <= span.end));
}

export interface SegmentRun {
  path: TimelineSpan[];
  /** Segment numbers from the backup's first needed one to the last reachable without a gap. */
  first: bigint;
  /** undefined: not even the first is archived. */
  last?: bigint;
  /** The segment holding the backup's end (it must be reachable for the backup to be consistent). */
  needed: bigint;
}

/** The run of archived segments a backup can replay on timeline `tli`'s path. */
export function segmentRun(facts: ArchiveFacts, b: PhysicalBackupMeta, tli: number): SegmentRun {
  const path = timelinePath(tli, facts.histories.get(tli) ?? []);
  const first = segmentNumberOf(backupFirstSegment(b), facts.segmentSize);
  const needed = b.walEnd ? segmentNumberOf(b.walEnd, facts.segmentSize) : segmentOfLsn(parseLsn(b.stopLsn), facts.segmentSize);
  // WAL up to walEnd inside a standalone snapshot counts as there.
  const inSnapshot = (s: bigint) => (b.standalone || !b.walStart) && s <= needed;
  let last: bigint | undefined;
  for (let s = first; ; s++) {
    if (!inSnapshot(s) && !facts.segments.get(timelineOfSegment(path, s, facts.segmentSize))?.has(s)) break;
    last = s;
  }
  return { path, first, last, needed };
}

export function segmentName(facts: ArchiveFacts, run: SegmentRun, s: bigint): string {
  return walFileName(timelineOfSegment(run.path, s, facts.segmentSize), s, facts.segmentSize);
}

/** The archived object of segment s on the run's path (undefined when it exists only in a snapshot). */
export function segmentObject(facts: ArchiveFacts, run: SegmentRun, s: bigint): ArchivedFile | undefined {
  return facts.segments.get(timelineOfSegment(run.path, s, facts.segmentSize))?.get(s);
}

export function segmentEnd(facts: ArchiveFacts, s: bigint): Lsn {
  return (s + 1n) * BigInt(facts.segmentSize);
}
