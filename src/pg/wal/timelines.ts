/**
 * Which timeline recovery follows, and which timeline's file it reads for each segment. Pure.
 *
 * A timeline's history file lists its ancestors and where each ended (its switchpoint). Recovery
 * from a backup on timeline B toward timeline T reads, for every segment, the file of the newest
 * timeline on T's path that had begun by that segment: the segment holding a switchpoint is read
 * from the new timeline (PostgreSQL copies the old timeline's start of it there at promotion).
 */
import type { Lsn } from '../lsn.js';
import { segmentOfLsn } from '../lsn.js';
import type { TimelineHistoryEntry } from '../wal-name.js';

export interface TimelineSpan {
  timeline: number;
  /** First LSN on this timeline (0 for the first span). */
  begin: Lsn;
  /** Where it ended (undefined for the target). */
  end?: Lsn;
}

/** The spans from the first ancestor to `target`, from target's history file entries. */
export function timelinePath(target: number, history: TimelineHistoryEntry[]): TimelineSpan[] {
  const spans: TimelineSpan[] = [];
  let begin = 0n;
  for (const e of history) {
    spans.push({ timeline: e.parentTimeline, begin, end: e.switchpoint });
    begin = e.switchpoint;
  }
  spans.push({ timeline: target, begin });
  return spans;
}

/**
 * The newest timeline recovery from (timeline, lsn) can follow: the highest timeline whose path
 * passes through `timeline` at `lsn` (recovery_target_timeline = 'latest' takes the newest).
 */
export function targetTimeline(timeline: number, lsn: Lsn, histories: Map<number, TimelineHistoryEntry[]>): number {
  const candidates = [...histories.keys()].filter((t) => t > timeline).sort((a, b) => b - a);
  for (const t of candidates) {
    const span = timelinePath(t, histories.get(t)!).find((s) => s.timeline === timeline);
    if (span && lsn >= span.begin && (span.end === undefined || lsn < span.end)) return t;
  }
  return timeline;
}

/** Timeline whose file holds segment `segNo` on this path. */
export function timelineOfSegment(path: TimelineSpan[], segNo: bigint, segSize: number): number {
  for (let i = path.length - 1; i > 0; i--) {
    if (segmentOfLsn(path[i]!.begin, segSize) <= segNo) return path[i]!.timeline;
  }
  return path[0]!.timeline;
}
