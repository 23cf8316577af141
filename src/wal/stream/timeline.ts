/**
 * Following timelines. The server's history (TIMELINE_HISTORY) says where each older timeline
 * ended; the receiver stores every `<tli>.history` it streams on, next to the segments, so a
 * restore can follow the same path. At the end of a timeline the server names the next one and
 * its start; streaming continues there from the start of that segment (the new timeline's copy
 * of the segment holds the old timeline's WAL before the switchpoint), like pg_receivewal.
 */
import { type Lsn, segmentFloor } from '../../pg/lsn.js';
import { historyFileName, parseTimelineHistory, type TimelineHistoryEntry } from '../../pg/wal-name.js';
import type { ReplicationClient } from '../../pg/protocol/index.js';
import type { ServerChain } from './position.js';
import { storeHistory, type StoreStatus, type WalTarget } from './store.js';

export interface HistoryStored {
  file: string;
  status: StoreStatus;
}

/**
 * The history of timeline `tli` from the server (empty for timeline 1), stored write-once in the
 * repository. `onStored` hears about each file written or found.
 */
export async function fetchAndStoreHistory(
  rc: ReplicationClient,
  target: WalTarget,
  tli: number,
  onStored?: (h: HistoryStored) => void,
): Promise<TimelineHistoryEntry[]> {
  if (tli <= 1) return [];
  const { content } = await rc.timelineHistory(tli);
  const entries = parseTimelineHistory(content);
  const status = await storeHistory(target, tli, content);
  onStored?.({ file: historyFileName(tli), status });
  return entries;
}

/** The server's current timeline and its history, with the history stored. */
export async function serverChain(
  rc: ReplicationClient,
  target: WalTarget,
  tli: number,
  onStored?: (h: HistoryStored) => void,
): Promise<ServerChain> {
  return { timeline: tli, history: await fetchAndStoreHistory(rc, target, tli, onStored) };
}

/** Where streaming continues after the server ended a timeline. */
export function nextTimelineStart(nextTimeline: number, switchpoint: Lsn, segSize: number): { timeline: number; lsn: Lsn } {
  return { timeline: nextTimeline, lsn: segmentFloor(switchpoint, segSize) };
}
