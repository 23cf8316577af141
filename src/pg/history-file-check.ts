/**
 * Strict checks of the two small text files PostgreSQL archives next to WAL segments, as the
 * server writes them — run before `wal push` stores one and by `wal check`:
 *
 *   <tli>.history     lines "<parent tli>\t<switchpoint X/X>\t<reason>"; blank and '#' lines are
 *                     allowed; parent timelines strictly increase and stay below <tli>;
 *                     switchpoints never go backwards; at least one entry.
 *   <seg>.<off>.backup  "START WAL LOCATION: X/X (file <seg>)" naming the file's own segment and
 *                     offset, and a "STOP WAL LOCATION: X/X (file ...)" not before it.
 *
 * Each returns the problems found (empty when the file is fine). Pure, no I/O.
 */
import { isLsnText, parseLsn } from './lsn.js';
import { isWalFileName, parseTimelineHistory, type WalFileName } from './wal-name.js';

/** What is wrong with the content of a .history file for timeline `tli` (empty when nothing). */
export function timelineHistoryProblems(content: Buffer | string, tli: number): string[] {
  const text = typeof content === 'string' ? content : content.toString('utf8');
  const binary = binaryProblem(content);
  if (binary) return [binary];
  let entries;
  try {
    entries = parseTimelineHistory(text);
  } catch (e) {
    return [(e as Error).message];
  }
  if (entries.length === 0) return ["it has no entry (PostgreSQL writes at least the parent timeline's switchpoint)"];
  const problems: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.parentTimeline >= tli) {
      problems.push(`entry ${i + 1} names timeline ${e.parentTimeline}, which is not below the file's timeline ${tli}`);
    }
    const prev = entries[i - 1];
    if (prev && e.switchpoint < prev.switchpoint) {
      problems.push(
        `entry ${i + 1}: switchpoint goes backwards (timeline ${e.parentTimeline} ends before timeline ${prev.parentTimeline})`,
      );
    }
  }
  return problems;
}

const START_RE = /^START WAL LOCATION: (\S+) \(file ([0-9A-F]{24})\)\s*$/m;
const STOP_RE = /^STOP WAL LOCATION: (\S+) \(file ([0-9A-F]{24})\)\s*$/m;

/** What is wrong with the content of a backup history file `<seg>.<offset>.backup` (empty when nothing). */
export function backupHistoryProblems(content: Buffer | string, file: WalFileName): string[] {
  const binary = binaryProblem(content);
  if (binary) return [binary];
  const text = typeof content === 'string' ? content : content.toString('utf8');
  const start = START_RE.exec(text);
  const stop = STOP_RE.exec(text);
  const problems: string[] = [];
  const segment = file.name.slice(0, 24);
  if (!start) problems.push('it has no "START WAL LOCATION: X/X (file <segment>)" line');
  else if (!isLsnText(start[1]!)) problems.push(`START WAL LOCATION "${start[1]}" is not an LSN`);
  else {
    if (start[2] !== segment) problems.push(`it starts in ${start[2]}, but its name says ${segment}`);
    // Any segment size is a multiple of 1 MiB, so the offset's low 20 bits must agree.
    const lsn = parseLsn(start[1]!);
    if (file.offset !== undefined && Number(lsn % 0x100000n) !== file.offset % 0x100000) {
      problems.push(`START WAL LOCATION ${start[1]} does not match the offset ${file.name.slice(25, 33)} in its name`);
    }
  }
  if (!stop) problems.push('it has no "STOP WAL LOCATION: X/X (file <segment>)" line');
  else if (!isLsnText(stop[1]!) || !isWalFileName(stop[2]!)) problems.push(`STOP WAL LOCATION "${stop[1]}" is not an LSN`);
  else if (start && isLsnText(start[1]!) && parseLsn(stop[1]!) < parseLsn(start[1]!)) {
    problems.push(`STOP WAL LOCATION ${stop[1]} is before START WAL LOCATION ${start[1]}`);
  }
  return problems;
}

/** PostgreSQL writes these files as plain text: a NUL byte or invalid UTF-8 means garbage. */
function binaryProblem(content: Buffer | string): string | undefined {
  if (typeof content === 'string') return content.includes('\0') ? 'it contains NUL bytes: not a text file' : undefined;
  if (content.includes(0)) return 'it contains NUL bytes: not a text file';
  if (!Buffer.from(content.toString('utf8'), 'utf8').equals(content)) return 'it is not valid UTF-8 text';
  return undefined;
}
