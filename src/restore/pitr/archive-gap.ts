/**
 * A known gap in the archive after the WAL a backup can reach: segments archived on the timeline
 * path beyond the last one reachable without a gap, which recovery never replays (it stops at the
 * first missing segment and promotes). Listing facts only; pure. `wal check` reports the same gaps.
 */
import { timelineOfSegment } from '../../pg/wal/timelines.js';
import { segmentName, type ArchiveFacts, type SegmentRun } from './archive.js';
import type { ArchiveGap } from './types.js';

/** The gap after the run's last segment, or undefined when nothing is archived beyond it on the path. */
export function findGap(facts: ArchiveFacts, run: SegmentRun): ArchiveGap | undefined {
  if (run.last === undefined) return undefined;
  let resumes: bigint | undefined;
  let newest: bigint | undefined;
  let unreachable = 0;
  for (const span of run.path) {
    for (const s of facts.segments.get(span.timeline)?.keys() ?? []) {
      if (s <= run.last || timelineOfSegment(run.path, s, facts.segmentSize) !== span.timeline) continue;
      unreachable++;
      if (resumes === undefined || s < resumes) resumes = s;
      if (newest === undefined || s > newest) newest = s;
    }
  }
  if (resumes === undefined || newest === undefined) return undefined;
  const name = (s: bigint) => segmentName(facts, run, s);
  return {
    after: name(run.last),
    missingFrom: name(run.last + 1n),
    missingTo: name(resumes - 1n),
    missing: Number(resumes - run.last - 1n),
    resumesAt: name(resumes),
    newest: name(newest),
    unreachable,
  };
}

/** "the archive has a gap after A: B is missing (C .. D, N archived segments after it, cannot be reached)": for messages. */
export function describeGap(g: ArchiveGap): string {
  const missing =
    g.missing === 1 ? `${g.missingFrom} is missing` : `${g.missingFrom} .. ${g.missingTo} (${g.missing} segments) are missing`;
  const beyond =
    g.unreachable === 1
      ? `the archived segment after it, ${g.resumesAt}, cannot be reached`
      : `the ${g.unreachable} archived segments after it, ${g.resumesAt} .. ${g.newest}, cannot be reached`;
  return `the archive has a gap after ${g.after}: ${missing}, so ${beyond}`;
}
