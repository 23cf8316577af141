/**
 * The recoverable window of one cluster on a time axis: each physical backup a mark, the
 * archived WAL as bands of segments without a gap, the gaps `wal check` found between them, and
 * the oldest and newest recoverable moments of the monitor's status. Pure: no I/O.
 */
import type { BackupSummary } from '../backup/index.js';
import type { ClusterStatus } from '../monitor/index.js';
import type { WalCheckReport } from '../wal/index.js';
import type { BackupMark, TimelineModel, WalBand, WalGapView } from './types.js';
import type { SegmentTime } from './wal-times.js';

export function timelineModel(
  status: ClusterStatus,
  backups: BackupSummary[],
  walCheck: WalCheckReport | undefined,
  segments: SegmentTime[],
  nowMs: number,
): TimelineModel {
  const bands: WalBand[] = [];
  const gaps: WalGapView[] = [];
  for (const t of walCheck?.timelines ?? []) {
    const present = segments.filter((s) => s.system === t.systemIdentifier && s.timeline === t.timeline);
    if (!present.length) continue;
    // Segments and gaps are both in name order: one pass splits the runs at each gap (linear in both).
    const sorted = [...t.gaps].sort((a, b) => (a.from < b.from ? -1 : 1));
    let run: SegmentTime[] = [];
    let gi = 0;
    for (const s of present) {
      let cut = false;
      while (gi < sorted.length && sorted[gi]!.to < s.name) {
        const g = sorted[gi++]!;
        const fromMs = run[run.length - 1]?.ms ?? bands[bands.length - 1]?.toMs ?? s.ms;
        gaps.push({ timeline: t.timeline, from: g.from, to: g.to, count: g.count, fromMs, toMs: s.ms });
        cut = true;
      }
      if (cut && run.length) {
        bands.push(band(t.timeline, run));
        run = [];
      }
      run.push(s);
    }
    if (run.length) bands.push(band(t.timeline, run));
    // A gap past the newest segment (not one `wal check` reports today) still shows, at the archive's end.
    const endMs = present[present.length - 1]!.ms;
    for (const g of sorted.slice(gi))
      gaps.push({ timeline: t.timeline, from: g.from, to: g.to, count: g.count, fromMs: endMs, toMs: endMs });
  }
  const windows = new Map((walCheck?.backups ?? []).map((w) => [w.id, w]));
  const marks: BackupMark[] = backups
    .filter((b) => b.kind === 'physical')
    .map((b) => {
      const w = windows.get(b.id);
      return {
        id: b.id,
        method: b.method,
        startMs: Date.parse(b.startTime),
        stopMs: Date.parse(b.stopTime),
        walStatus: w?.status ?? 'unknown',
        ...(w ? { message: w.message } : {}),
      };
    });
  const win = status.window;
  const newestSegment = win.newest ? segments.find((s) => s.name === win.newest!.segment) : undefined;
  const newestMs = win.newest ? (win.newest.time ? Date.parse(win.newest.time) : newestSegment?.ms) : undefined;
  const times = [nowMs, ...marks.map((m) => m.startMs), ...bands.map((b) => b.fromMs), ...gaps.map((g) => g.fromMs)];
  const fromMs = Math.min(...times);
  return {
    // A little room on the left, and never a zero-width axis.
    fromMs: fromMs - Math.max(5_000, (nowMs - fromMs) * 0.03),
    toMs: nowMs,
    nowMs,
    backups: marks,
    bands,
    gaps,
    oldest: win.oldest ? { ms: Date.parse(win.oldest.time), backup: win.oldest.backup } : null,
    newest:
      win.newest && newestMs !== undefined
        ? { ms: newestMs, lsn: win.newest.lsn, segment: win.newest.segment, bound: win.newest.time !== win.oldest?.time }
        : null,
  };
}

function band(timeline: number, run: SegmentTime[]): WalBand {
  return {
    timeline,
    first: run[0]!.name,
    last: run[run.length - 1]!.name,
    segments: run.length,
    fromMs: run[0]!.ms,
    toMs: run[run.length - 1]!.ms,
  };
}
