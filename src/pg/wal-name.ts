/**
 * WAL file names and timeline history files.
 *
 *   000000010000000A000000FF            segment: timeline, log (xlogid), seg (%08X each)
 *   000000010000000A000000FF.partial    an unfinished segment (streaming, or end of a timeline)
 *   00000002.history                    history of timeline 2
 *   000000010000000A000000FF.00000028.backup   backup history file (offset of the backup start)
 *
 * "log" and "seg" split the segment number: log = segNo / (2^32 / segSize), seg = the remainder,
 * so with 16 MiB segments seg runs 00000000..000000FF and then log increases.
 */
import { PgkeepError } from '../errors.js';
import {
  DEFAULT_WAL_SEGMENT_SIZE,
  type Lsn,
  formatLsn,
  isLsnText,
  parseLsn,
  segmentOfLsn,
  segmentsPerXLogId,
  segmentStartLsn,
} from './lsn.js';

export type WalFileKind = 'segment' | 'partial' | 'history' | 'backup';

export interface WalFileName {
  kind: WalFileKind;
  /** The name as given. */
  name: string;
  timeline: number;
  /** Middle 8 hex digits (absent for history files). */
  log?: number;
  /** Last 8 hex digits (absent for history files). */
  seg?: number;
  /** For `.backup` files: offset of the backup start inside the segment. */
  offset?: number;
}

const SEGMENT = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$/;
const PARTIAL = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})\.partial$/;
const HISTORY = /^([0-9A-F]{8})\.history$/;
const BACKUP = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})\.([0-9A-F]{8})\.backup$/;

const hex8 = (n: number | bigint): string => n.toString(16).toUpperCase().padStart(8, '0');

/** True for a complete segment name (24 upper-case hex digits), like PostgreSQL's IsXLogFileName. */
export function isWalFileName(name: string): boolean {
  return SEGMENT.test(name);
}

export function isPartialWalFileName(name: string): boolean {
  return PARTIAL.test(name);
}

export function isHistoryFileName(name: string): boolean {
  return HISTORY.test(name);
}

export function isBackupHistoryFileName(name: string): boolean {
  return BACKUP.test(name);
}

/** True for any file an archive_command may be handed (segment, .partial, .history, .backup). */
export function isArchivableWalName(name: string): boolean {
  return SEGMENT.test(name) || PARTIAL.test(name) || HISTORY.test(name) || BACKUP.test(name);
}

/** Parse a WAL file name; throws USAGE naming the accepted forms when it is none of them. */
export function parseWalFileName(name: string): WalFileName {
  let m = SEGMENT.exec(name);
  if (m) return { kind: 'segment', name, ...segParts(m) };
  m = PARTIAL.exec(name);
  if (m) return { kind: 'partial', name, ...segParts(m) };
  m = HISTORY.exec(name);
  if (m) return { kind: 'history', name, timeline: checkTimeline(parseInt(m[1]!, 16), name) };
  m = BACKUP.exec(name);
  if (m) return { kind: 'backup', name, ...segParts(m), offset: parseInt(m[4]!, 16) };
  throw new PgkeepError('USAGE', `"${name}" is not a WAL file name`, {
    hint: 'expected a segment (24 hex digits, e.g. 000000010000000000000001), or a .partial, .history or .backup file',
  });
}

function segParts(m: RegExpExecArray): { timeline: number; log: number; seg: number } {
  return { timeline: checkTimeline(parseInt(m[1]!, 16), m[0]), log: parseInt(m[2]!, 16), seg: parseInt(m[3]!, 16) };
}

function checkTimeline(tli: number, name: string): number {
  if (tli === 0) throw new PgkeepError('USAGE', `"${name}" names timeline 0, which does not exist`);
  return tli;
}

/** Name of segment number `segNo` on timeline `tli` (PostgreSQL's XLogFileName). */
export function walFileName(tli: number, segNo: bigint, segSize: number = DEFAULT_WAL_SEGMENT_SIZE): string {
  if (!Number.isInteger(tli) || tli < 1 || tli > 0xffff_ffff) {
    throw new PgkeepError('INTERNAL', `invalid timeline ${tli}`);
  }
  if (segNo < 0n) throw new PgkeepError('INTERNAL', `invalid segment number ${segNo}`);
  const per = segmentsPerXLogId(segSize);
  const log = segNo / per;
  if (log > 0xffff_ffffn) throw new PgkeepError('INTERNAL', `segment number ${segNo} out of range`);
  return hex8(tli) + hex8(log) + hex8(segNo % per);
}

/** Name of the segment holding `lsn` on timeline `tli`. */
export function walFileNameForLsn(tli: number, lsn: Lsn, segSize: number = DEFAULT_WAL_SEGMENT_SIZE): string {
  return walFileName(tli, segmentOfLsn(lsn, segSize), segSize);
}

/** Segment number of a segment / partial / backup file name. */
export function segmentNumberOf(name: string | WalFileName, segSize: number = DEFAULT_WAL_SEGMENT_SIZE): bigint {
  const p = typeof name === 'string' ? parseWalFileName(name) : name;
  if (p.log === undefined || p.seg === undefined) {
    throw new PgkeepError('USAGE', `"${p.name}" is a timeline history file, not a segment`);
  }
  const per = segmentsPerXLogId(segSize);
  if (BigInt(p.seg) >= per) {
    throw new PgkeepError('USAGE', `"${p.name}" is not a valid segment name for ${segSize / 1048576} MiB segments`, {
      hint: `with this segment size the last 8 digits stay below ${hex8(per)}`,
    });
  }
  return BigInt(p.log) * per + BigInt(p.seg);
}

/** First LSN of the segment a name refers to (plus the offset for `.backup` files). */
export function walFileStartLsn(name: string | WalFileName, segSize: number = DEFAULT_WAL_SEGMENT_SIZE): Lsn {
  const p = typeof name === 'string' ? parseWalFileName(name) : name;
  return segmentStartLsn(segmentNumberOf(p, segSize), segSize) + BigInt(p.offset ?? 0);
}

/** The segment after `name` on the same timeline. */
export function nextWalFileName(name: string, segSize: number = DEFAULT_WAL_SEGMENT_SIZE): string {
  const p = parseWalFileName(name);
  return walFileName(p.timeline, segmentNumberOf(p, segSize) + 1n, segSize);
}

/** The segment before `name` on the same timeline; throws for the very first segment. */
export function prevWalFileName(name: string, segSize: number = DEFAULT_WAL_SEGMENT_SIZE): string {
  const p = parseWalFileName(name);
  const n = segmentNumberOf(p, segSize);
  if (n === 0n) throw new PgkeepError('USAGE', `"${name}" is the first possible segment; there is none before it`);
  return walFileName(p.timeline, n - 1n, segSize);
}

/** `00000002.history` */
export function historyFileName(tli: number): string {
  if (!Number.isInteger(tli) || tli < 1 || tli > 0xffff_ffff) throw new PgkeepError('INTERNAL', `invalid timeline ${tli}`);
  return `${hex8(tli)}.history`;
}

/** `<segment>.<offset %08X>.backup` for a backup that started at `startLsn`. */
export function backupHistoryFileName(tli: number, startLsn: Lsn, segSize: number = DEFAULT_WAL_SEGMENT_SIZE): string {
  return `${walFileNameForLsn(tli, startLsn, segSize)}.${hex8(startLsn % BigInt(segSize))}.backup`;
}

/** One line of a timeline history file: timeline `parentTimeline` ended at `switchpoint`. */
export interface TimelineHistoryEntry {
  parentTimeline: number;
  switchpoint: Lsn;
  reason: string;
}

/**
 * Parse a `.history` file: lines `<parentTLI>\t<switchpoint X/X>\t<reason>`; blank lines and
 * lines starting with `#` are ignored. Timelines must increase. Throws DATA_INTEGRITY otherwise.
 */
export function parseTimelineHistory(content: string | Buffer): TimelineHistoryEntry[] {
  const text = typeof content === 'string' ? content : content.toString('utf8');
  const entries: TimelineHistoryEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const m = /^\s*(\d+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
    const bad = (why: string): PgkeepError =>
      new PgkeepError('DATA_INTEGRITY', `invalid timeline history, line ${i + 1}: ${why}`, {
        hint: 'the .history file is damaged; fetch it again from the server (TIMELINE_HISTORY) or the archive',
        details: { line: i + 1 },
      });
    if (!m) throw bad('expected "<timeline> <switchpoint> <reason>"');
    const tli = Number(m[1]);
    if (!Number.isSafeInteger(tli) || tli < 1 || tli > 0xffff_ffff) throw bad(`invalid timeline "${m[1]}"`);
    if (!isLsnText(m[2]!)) throw bad(`invalid switchpoint "${m[2]}"`);
    const prev = entries[entries.length - 1];
    if (prev && tli <= prev.parentTimeline) throw bad('timeline IDs must be in increasing order');
    entries.push({ parentTimeline: tli, switchpoint: parseLsn(m[2]!), reason: (m[3] ?? '').trim() });
  }
  return entries;
}

/** Text of a history file for these entries (the format PostgreSQL writes). */
export function formatTimelineHistory(entries: TimelineHistoryEntry[]): string {
  return entries.map((e) => `${e.parentTimeline}\t${formatLsn(e.switchpoint)}\t${e.reason}\n`).join('');
}

/**
 * The timeline a position belongs to, given the history of `currentTimeline`: the first ancestor
 * whose switchpoint lies after `lsn`, else `currentTimeline` itself.
 */
export function timelineOfLsn(history: TimelineHistoryEntry[], currentTimeline: number, lsn: Lsn): number {
  for (const e of history) if (lsn < e.switchpoint) return e.parentTimeline;
  return currentTimeline;
}
