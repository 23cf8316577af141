/**
 * The table of contents of a pg_dump archive (custom or directory format), as pgkeep keeps it: the
 * types are recorded in a dump's meta, so they live in holdings/dump-meta.ts.
 */

export type { Toc, TocEntry, TocHeader } from '../../holdings/dump-meta.js';

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
