/** What `inspect` reports: plain data, the same for text and --json output. */
import type {
  ColumnInfo,
  DatabaseInfo,
  FunctionInfo,
  IndexInfo,
  RelationInfo,
  RoleInfo,
  SchemaInfo,
  SequenceInfo,
  ServerInfo,
  Setting,
} from '../pg/catalog.js';

export interface DatabaseObjects {
  database: string;
  schemas: SchemaInfo[];
  /** relkind 'r' (table), 'p' (partitioned table), 'f' (foreign table). */
  tables: RelationInfo[];
  views: RelationInfo[];
  materializedViews: RelationInfo[];
  sequences: SequenceInfo[];
  functions: FunctionInfo[];
  indexes: IndexInfo[];
}

export interface SkippedDatabase {
  database: string;
  reason: string;
}

export interface TableDetail {
  database: string;
  schema: string;
  name: string;
  kind: string;
  /** Size and row estimate (absent for views). */
  relation?: RelationInfo;
  columns: ColumnInfo[];
  indexes: IndexInfo[];
}

/** A section's source, for --explain. */
export interface CatalogNote {
  catalog: string;
  note: string;
}

export interface InspectReport {
  /** host=... port=... user=... dbname=... (never a password). */
  target: string;
  server: ServerInfo;
  settings: Setting[];
  /** Absent with --table. */
  databases?: DatabaseInfo[];
  roles?: RoleInfo[];
  objects?: DatabaseObjects[];
  skipped?: SkippedDatabase[];
  table?: TableDetail;
  /** With --explain: where each section came from, keyed by section name. */
  explain?: Record<string, CatalogNote>;
}
