/**
 * Where each fact of `inspect` comes from, with a one-line note for people learning PostgreSQL
 * (`--explain`).
 */
import type { CatalogNote } from './types.js';

export const CATALOG_NOTES = {
  server: {
    catalog: 'version(), pg_control_system(), pg_settings (data_directory)',
    note:
      'pg_control_system() reads global/pg_control; initdb sets the system identifier, and WAL or a physical ' +
      'backup only ever fits the cluster with the same one.',
  },
  settings: {
    catalog: 'pg_settings',
    note:
      'every server setting with its context: "postmaster" needs a restart to change, "sighup" a reload, ' +
      '"internal" was fixed by initdb or at build time.',
  },
  databases: {
    catalog: 'pg_database, pg_database_size()',
    note:
      'a shared catalog (one for the whole cluster); each database has its own copy of the other catalogs, ' +
      'which is why pgkeep connects to each one to list its objects. collate is datcollate, or, for a database whose ' +
      'locale provider is icu or builtin (datlocprovider, 15+), its ICU or builtin locale.',
  },
  roles: {
    catalog: 'pg_roles (a view on pg_authid), pg_auth_members',
    note:
      'roles belong to the cluster, not to a database: pg_dump of one database leaves them out, ' +
      'pg_dumpall --globals-only and physical backups keep them.',
  },
  schemas: {
    catalog: 'pg_namespace',
    note: 'schemas are namespaces inside one database; pg_catalog, information_schema and pg_toast are the system ones.',
  },
  tables: {
    catalog: "pg_class relkind 'r' (table), 'p' (partitioned table), 'f' (foreign table)",
    note:
      "rows are reltuples, the planner's estimate from the last VACUUM/ANALYZE; total size = table + indexes + " +
      'TOAST (pg_total_relation_size), which is what a physical backup copies.',
  },
  views: {
    catalog: "pg_class relkind 'v' (+ pg_rewrite)",
    note: 'a view stores only its query, no data: backups carry it as its definition.',
  },
  materializedViews: {
    catalog: "pg_class relkind 'm'",
    note: 'a materialized view stores its result as data; pg_dump saves the query and refreshes it on restore.',
  },
  sequences: {
    catalog: "pg_class relkind 'S', pg_sequence",
    note:
      'a sequence is a one-row relation whose changes are not transactional: after recovery it may be ahead of ' +
      'the data, never behind.',
  },
  functions: {
    catalog: 'pg_proc, pg_language',
    note:
      'functions and procedures live in the catalog with their source, so a logical dump carries them ' +
      '(those of extensions are left out: CREATE EXTENSION brings them back).',
  },
  indexes: {
    catalog: "pg_class relkind 'i', pg_index, pg_am",
    note:
      'a physical backup copies index files as they are; a logical dump stores CREATE INDEX and rebuilds each ' +
      'index at restore, often the slowest part.',
  },
  columns: {
    catalog: 'pg_attribute, pg_type (format_type()), pg_attrdef',
    note:
      'one pg_attribute row per column in attnum order (dropped columns stay as attisdropped); the type name ' +
      'comes from pg_type, defaults from pg_attrdef.',
  },
} satisfies Record<string, CatalogNote>;

export type InspectSection = keyof typeof CATALOG_NOTES;
