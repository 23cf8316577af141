/** The table of contents of a pg_dump archive (custom or directory format), as pgkeep keeps it. */

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

export interface Toc {
  header: TocHeader;
  entries: TocEntry[];
}

/** Types that describe relations a user can name with --table. */
export const RELATION_TYPES = ['TABLE', 'VIEW', 'MATERIALIZED VIEW', 'FOREIGN TABLE', 'SEQUENCE'] as const;

/**
 * Every description pg_dump (12-18) writes into a TOC, so `pg_restore -l` lines (whose fields
 * are separated by spaces that names may also contain) can be split at the right place.
 */
export const KNOWN_TYPES: readonly string[] = [
  'ACCESS METHOD', 'ACL', 'AGGREGATE', 'ATTRDEF', 'BLOB', 'BLOB METADATA', 'BLOBS', 'CAST', 'CHECK CONSTRAINT',
  'COLLATION', 'COMMENT', 'CONSTRAINT', 'CONVERSION', 'DATABASE', 'DATABASE PROPERTIES', 'DEFAULT', 'DEFAULT ACL',
  'DOMAIN', 'ENCODING', 'EVENT TRIGGER', 'EXTENSION', 'FK CONSTRAINT', 'FOREIGN DATA WRAPPER', 'FOREIGN SERVER',
  'FOREIGN TABLE', 'FUNCTION', 'INDEX', 'INDEX ATTACH', 'LARGE OBJECT', 'LARGE OBJECTS', 'MATERIALIZED VIEW',
  'MATERIALIZED VIEW DATA', 'OPERATOR', 'OPERATOR CLASS', 'OPERATOR FAMILY', 'PG_LARGEOBJECT',
  'PG_LARGEOBJECT_METADATA', 'POLICY', 'PROCEDURAL LANGUAGE', 'PROCEDURE', 'PUBLICATION', 'PUBLICATION TABLE',
  'PUBLICATION TABLES IN SCHEMA', 'ROW SECURITY', 'RULE', 'SCHEMA', 'SEARCHPATH', 'SECURITY LABEL', 'SEQUENCE',
  'SEQUENCE OWNED BY', 'SEQUENCE SET', 'SERVER', 'SHELL TYPE', 'STATISTICS', 'STATISTICS DATA', 'STDSTRINGS',
  'SUBSCRIPTION', 'SUBSCRIPTION TABLE', 'TABLE', 'TABLE ATTACH', 'TABLE DATA', 'TEXT SEARCH CONFIGURATION',
  'TEXT SEARCH DICTIONARY', 'TEXT SEARCH PARSER', 'TEXT SEARCH TEMPLATE', 'TRANSFORM', 'TRIGGER', 'TYPE',
  'USER MAPPING', 'VIEW',
];
