/**
 * The logical snapshot meta, as the logical use case sees it: the types live in holdings/
 * (dump-meta.ts, read through read-dump-meta.ts); the archive paths are logical's own.
 */
import type { DumpFormat } from '../holdings/dump-meta.js';

export { DUMP_FORMATS, type DumpFormat, type DumpMeta, type DumpedDatabase } from '../holdings/dump-meta.js';

export function databasePath(name: string, format: DumpFormat): string {
  const enc = encodeURIComponent(name);
  return format === 'custom' ? `databases/${enc}.dump` : format === 'plain' ? `databases/${enc}.sql` : `databases/${enc}`;
}

export const GLOBALS_PATH = 'globals.sql';
