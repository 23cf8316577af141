/**
 * Read archived segments and report the WAL events in them (commits, aborts, restore points),
 * in windows: forward within a window, windows from the newest backward, so that "what is the
 * last transaction in the archive?" reads one segment, and searches stop early. A record that
 * crosses the first segment of a window into it from the previous window is not seen.
 */
import type { Repository } from '../../repo/index.js';
import { segmentStartLsn } from '../../pg/lsn.js';
import { WalRecordScanner, type WalEvent } from '../../pg/wal/records.js';
import { segmentObject, type ArchiveFacts, type SegmentRun } from './archive.js';

export interface WindowResult {
  from: bigint;
  to: bigint;
  events: WalEvent[];
  lastRecord?: bigint;
}

export interface ScanBudget {
  /** Segments still allowed to be read. */
  segments: number;
  read: number;
}

/** Read segments from..to (inclusive, archived ones only; a missing one restarts the scanner). */
export async function scanWindow(
  repo: Pick<Repository, 'getObject'>,
  facts: ArchiveFacts,
  run: SegmentRun,
  from: bigint,
  to: bigint,
  budget: ScanBudget,
  signal?: AbortSignal,
): Promise<WindowResult> {
  const events: WalEvent[] = [];
  const scanner = new WalRecordScanner((e) => events.push(e));
  for (let s = from; s <= to; s++) {
    signal?.throwIfAborted();
    const obj = segmentObject(facts, run, s);
    if (!obj) continue;
    const data = await repo.getObject(obj.object);
    budget.segments--;
    budget.read++;
    scanner.segment(data, segmentStartLsn(s, facts.segmentSize));
  }
  return { from, to, events, lastRecord: scanner.lastRecord };
}

/**
 * Windows from the end of the run backward (1, 2, 4, ... segments) down to `lowest`, until
 * `enough` says so or the budget is spent. Returns the windows read, newest first.
 */
export async function scanBackward(
  repo: Pick<Repository, 'getObject'>,
  facts: ArchiveFacts,
  run: SegmentRun,
  lowest: bigint,
  budget: ScanBudget,
  enough: (w: WindowResult) => boolean,
  signal?: AbortSignal,
): Promise<{ windows: WindowResult[]; complete: boolean }> {
  const windows: WindowResult[] = [];
  if (run.last === undefined) return { windows, complete: true };
  let to = run.last;
  let size = 1n;
  while (to >= lowest) {
    if (budget.segments <= 0) return { windows, complete: false };
    let from = to - size + 1n;
    if (from < lowest) from = lowest;
    if (to - from + 1n > BigInt(budget.segments)) from = to - BigInt(budget.segments) + 1n;
    const w = await scanWindow(repo, facts, run, from, to, budget, signal);
    windows.push(w);
    if (enough(w)) return { windows, complete: true };
    to = from - 1n;
    size *= 2n;
  }
  return { windows, complete: true };
}
