/**
 * Where streaming starts (or resumes), and on which timeline. Pure: the caller lists the archive
 * and asks the server; these functions only decide.
 *
 * Order of preference, always at a segment start (a segment is stored whole or not at all):
 *   1. after the last complete segment in the repository that lies on the server's timeline
 *      path (the archiver may have stored it: both feed the same archive);
 *   2. the slot's restart_lsn, when a slot is used and the repository has nothing newer (the
 *      server keeps WAL from there; anything between the archive's end and it is a gap);
 *   3. the start of the server's current segment (starting fresh).
 * The timeline of a position comes from the server's history: a position before a switchpoint
 * is streamed from the older timeline, which the server ends there (end of timeline).
 */
import { PgkeepError } from '../../errors.js';
import { type Lsn, formatLsn, segmentFloor, segmentStartLsn } from '../../pg/lsn.js';
import { type TimelineHistoryEntry, type WalFileName, segmentNumberOf, timelineOfLsn } from '../../pg/wal-name.js';
import { timelineOfSegment, timelinePath } from '../../pg/wal/timelines.js';

/** The server's current timeline and its history (empty for timeline 1). */
export interface ServerChain {
  timeline: number;
  history: TimelineHistoryEntry[];
}

export type StartSource = 'repository' | 'slot' | 'server' | 'resume';

export interface StartPosition {
  lsn: Lsn;
  timeline: number;
  source: StartSource;
  /** Set when the repository ends before the slot's position: WAL in between is not archived. */
  gapFrom?: Lsn;
}

/**
 * End of the newest complete segment archived on the server's timeline path, or undefined.
 * A segment counts only under the timeline whose file PostgreSQL reads for it on that path, so
 * segments of abandoned branches (or of an old timeline past its switchpoint) are ignored.
 */
export function lastArchivedPosition(files: Iterable<WalFileName>, chain: ServerChain, segSize: number): Lsn | undefined {
  const path = timelinePath(chain.timeline, chain.history);
  const onPath = new Set(path.map((s) => s.timeline));
  let best: Lsn | undefined;
  for (const f of files) {
    if (f.kind !== 'segment' || !onPath.has(f.timeline)) continue;
    const segNo = segmentNumberOf(f, segSize);
    if (timelineOfSegment(path, segNo, segSize) !== f.timeline) continue;
    const end = segmentStartLsn(segNo + 1n, segSize);
    if (best === undefined || end > best) best = end;
  }
  return best;
}

/** Choose where a new receiver starts; see the order at the top of this file. */
export function chooseStartPosition(input: {
  chain: ServerChain;
  segSize: number;
  /** From lastArchivedPosition(). */
  archivedEnd?: Lsn;
  /** The slot's restart_lsn (null when the slot has not reserved WAL). */
  slotRestartLsn?: Lsn | null;
  /** The server's current WAL position (IDENTIFY_SYSTEM). */
  serverLsn: Lsn;
}): StartPosition {
  const { chain, segSize, archivedEnd } = input;
  const slotStart = input.slotRestartLsn ? segmentFloor(input.slotRestartLsn, segSize) : undefined;
  let lsn: Lsn;
  let source: StartSource;
  let gapFrom: Lsn | undefined;
  if (archivedEnd !== undefined && (slotStart === undefined || archivedEnd >= slotStart)) {
    lsn = archivedEnd;
    source = 'repository';
  } else if (slotStart !== undefined) {
    lsn = slotStart;
    source = 'slot';
    gapFrom = archivedEnd;
  } else {
    lsn = segmentFloor(input.serverLsn, segSize);
    source = 'server';
  }
  return { lsn, timeline: timelineOfLsn(chain.history, chain.timeline, lsn), source, ...(gapFrom !== undefined ? { gapFrom } : {}) };
}

/**
 * Where to continue after a reconnect, given that everything before `lsn` (a segment start) on
 * timeline `tli` is stored. When the server's history says `tli` ended before `lsn` (the server
 * was promoted from a standby that had not received everything we had), continue from the start
 * of the segment holding the switchpoint, on the server's path.
 */
export function resumeOnChain(lsn: Lsn, tli: number, chain: ServerChain, segSize: number): StartPosition {
  const path = timelinePath(chain.timeline, chain.history);
  const span = path.find((s) => s.timeline === tli);
  if (!span) {
    throw new PgkeepError(
      'CONFLICT',
      `the server is on timeline ${chain.timeline}, whose history does not contain timeline ${tli} that WAL was streamed from`,
      {
        hint:
          'the server is not the one streamed from before (an old primary, or another branch); point the receiver ' +
          'at the current primary, or stream this server under another cluster name',
        details: { serverTimeline: chain.timeline, streamedTimeline: tli, position: formatLsn(lsn) },
      },
    );
  }
  const at = span.end !== undefined && span.end < lsn ? segmentFloor(span.end, segSize) : lsn;
  return { lsn: at, timeline: timelineOfLsn(chain.history, chain.timeline, at), source: 'resume' };
}
