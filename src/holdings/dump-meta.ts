/**
 * What a logical snapshot (`pgkeep dump`) records in its manifest's meta, under `dump`, so it can
 * be listed, browsed and restored without reading the archive. Read it only through
 * read-dump-meta.ts (checked field by field). Layout of a logical snapshot's files:
 *
 *   globals.sql                          pg_dumpall --globals-only (--all, --globals)
 *   databases/<name>.dump                custom format archive
 *   databases/<name>/toc.dat, NNNN.dat   directory format archive
 *   databases/<name>.sql                 plain SQL
 *
 * <name> is the database name with encodeURIComponent applied.
 */

export type DumpFormat = 'custom' | 'directory' | 'plain';
export const DUMP_FORMATS: DumpFormat[] = ['custom', 'directory', 'plain'];
export const DUMP_SCOPES = ['database', 'all', 'globals'] as const;
export const COMPRESSORS = ['repository', 'pg_dump'] as const;

/** One entry of a pg_dump archive's table of contents. */
export interface TocEntry {
  /** pg_dump's dump id: the number pg_restore -L lists refer to. */
  dumpId: number;
  /** Catalog the object lives in (pg_class = 1259, ...) and its OID there; 0 when none. */
  tableOid: number;
  oid: number;
  /** pg_dump's description: TABLE, TABLE DATA, INDEX, CONSTRAINT, SEQUENCE SET, ACL, ... */
  type: string;
  /** Schema, absent for objects outside any schema (SCHEMA, EXTENSION, DATABASE...). */
  schema?: string;
  /**
   * pg_dump's tag: the object's name, or for sub-objects "<table> <name>" (CONSTRAINT,
   * TRIGGER, POLICY, DEFAULT), "TABLE <name>" / "COLUMN <t>.<c>" (COMMENT, ACL).
   */
  name: string;
  /** Owning role ('' for objects with no owner). */
  owner: string;
  /** Dump ids this entry depends on (from the archive; inferred for data entries). */
  deps: number[];
}

export interface TocHeader {
  archiveCreated?: string;
  dbname?: string;
  entryCount?: number;
  compression?: string;
  dumpVersion?: string;
  format?: string;
  serverVersion?: string;
  pgDumpVersion?: string;
}

/** The table of contents of a pg_dump archive (custom or directory format), as pgkeep keeps it. */
export interface Toc {
  header: TocHeader;
  entries: TocEntry[];
}

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
  scope: (typeof DUMP_SCOPES)[number];
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
    compressedBy: (typeof COMPRESSORS)[number];
  };
  globals?: { path: string; bytes: number; noRolePasswords: boolean };
  databases: DumpedDatabase[];
}
