/** The WAL segments a hot backup needs: from the one holding the start LSN to the one holding the last byte before the stop LSN. */
import { segmentBeforeLsn, segmentOfLsn } from '../lsn.js';
import { walFileName } from '../wal-name.js';

export interface WalRange {
  walStart: string;
  walEnd: string;
  /** Every segment name from walStart to walEnd. */
  segments: string[];
}

export function walRange(timeline: number, startLsn: bigint, stopLsn: bigint, segSize: number): WalRange {
  const first = segmentOfLsn(startLsn, segSize);
  const last = stopLsn > startLsn ? segmentBeforeLsn(stopLsn, segSize) : first;
  const segments: string[] = [];
  for (let s = first; s <= (last < first ? first : last); s++) segments.push(walFileName(timeline, s, segSize));
  return { walStart: segments[0]!, walEnd: segments[segments.length - 1]!, segments };
}
