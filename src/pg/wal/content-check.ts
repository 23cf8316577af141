/**
 * Is this the content PostgreSQL writes under this WAL file name? One entry point for every
 * kind: segments and .partial files (page headers, segment-pages.ts), .history and .backup
 * files (text format, pg/history-file-check.ts). Used by `wal push` before storing (page
 * headers only: it must keep up with the server), and with `records` (every record's CRC-32C
 * too) by `wal check --read-data`, `repo check --read-data`, `verify` and `restore` after reading.
 */
import type { WalFileName } from '../wal-name.js';
import { backupHistoryProblems, timelineHistoryProblems } from '../history-file-check.js';
import { segmentContentProblem } from './segment-pages.js';

/** What is wrong with `data` as the content of `file` (undefined when it looks right). */
export function walContentProblem(
  file: WalFileName,
  data: Buffer,
  systemIdentifier?: string,
  opts: { records?: boolean } = {},
): string | undefined {
  switch (file.kind) {
    case 'segment':
    case 'partial':
      return segmentContentProblem(file, data, systemIdentifier, opts);
    case 'history':
      return timelineHistoryProblems(data, file.timeline).join('; ') || undefined;
    case 'backup':
      return backupHistoryProblems(data, file).join('; ') || undefined;
  }
}
