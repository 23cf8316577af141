/**
 * What a logical snapshot records in its manifest's meta (under `dump`), so it can be listed,
 * browsed and restored without reading the archive. Layout of a logical snapshot's files:
 *
 *   globals.sql                          pg_dumpall --globals-only (--all, --globals)
 *   databases/<name>.dump                custom format archive
 *   databases/<name>/toc.dat, NNNN.dat   directory format archive
 *   databases/<name>.sql                 plain SQL
 *
 * <name> is the database name with encodeURIComponent applied.
 */
import type { Toc } from './toc/index.js';

export type DumpFormat = 'custom' | 'directory' | 'plain';
export const DUMP_FORMATS: DumpFormat[] = ['custom', 'directory', 'plain'];

export interface DumpedDatabase {
  name: string;
  format: DumpFormat;
  /** The archive file, or the directory prefix of a directory archive. */
  path: string;
  files: number;
  /** Bytes of the archive as pg_dump wrote it. */
  bytes: number;
  /** `pg_restore -l` (+ dependencies); absent for plain format. */
  toc?: Toc;
  /** Why the TOC is missing or partial. */
  tocNote?: string;
  /**
   * Plain format in a whole-cluster dump: whether the SQL creates the database. false for
   * template1 and postgres, which every cluster has (their SQL is replayed into them).
   */
  createsDatabase?: boolean;
}

export interface DumpMeta {
  version: 1;
  scope: 'database' | 'all' | 'globals';
  format: DumpFormat;
  pgDumpVersion: string;
  serverVersion: string;
  serverVersionNum: number;
  /** host/port/user the dump was taken from (never a password). */
  source: string;
  options: {
    schemas: string[];
    tables: string[];
    excludeTables: string[];
    schemaOnly: boolean;
    dataOnly: boolean;
    jobs: number;
    /** Who compresses the archive's data: pgkeep's repository (pg_dump -Z 0) or pg_dump. */
    compressedBy: 'repository' | 'pg_dump';
  };
  globals?: { path: string; bytes: number; noRolePasswords: boolean };
  databases: DumpedDatabase[];
}

export function databasePath(name: string, format: DumpFormat): string {
  const enc = encodeURIComponent(name);
  return format === 'custom' ? `databases/${enc}.dump` : format === 'plain' ? `databases/${enc}.sql` : `databases/${enc}`;
}

export const GLOBALS_PATH = 'globals.sql';

/** The dump meta of a manifest's meta, or undefined when it is not a pgkeep dump. */
export function dumpMetaOf(meta: Record<string, unknown>): DumpMeta | undefined {
  const d = meta.dump as DumpMeta | undefined;
  return d && d.version === 1 && Array.isArray(d.databases) ? d : undefined;
}
