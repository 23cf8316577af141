/** Objects inside the current database: schemas, relations, sequences, functions, indexes. */

import { Queryable, num, USER_SCHEMA } from './queryable.js';

export interface SchemaInfo {
  name: string;
  owner: string;
}

export async function listSchemas(db: Queryable): Promise<SchemaInfo[]> {
  const { rows } = await db.query(`
    SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner
      FROM pg_namespace n WHERE ${USER_SCHEMA} ORDER BY 1`);
  return rows.map((r) => ({ name: r.name, owner: r.owner }));
}

/** pg_class.relkind values pgkeep reports, with the name PostgreSQL's docs use. */
export const RELKINDS = {
  r: 'table',
  p: 'partitioned table',
  v: 'view',
  m: 'materialized view',
  S: 'sequence',
  i: 'index',
  I: 'partitioned index',
  f: 'foreign table',
  t: 'TOAST table',
  c: 'composite type',
} as const;
export type RelKind = keyof typeof RELKINDS;

export interface RelationInfo {
  schema: string;
  name: string;
  kind: RelKind;
  owner: string;
  /** 'p' permanent, 'u' unlogged (not in physical backups' data), 't' temporary. */
  persistence: 'p' | 'u' | 't';
  isPartition: boolean;
  /** reltuples: the planner's estimate; null when never vacuumed/analyzed. */
  estimatedRows: number | null;
  /** Main fork only (pg_relation_size). */
  tableBytes: number;
  indexBytes: number;
  toastBytes: number;
  /** pg_total_relation_size: table + indexes + TOAST. */
  totalBytes: number;
}

/** Relations of the given kinds in user schemas (default: tables, views, matviews, sequences, foreign tables). */
export async function listRelations(db: Queryable, kinds: RelKind[] = ['r', 'p', 'v', 'm', 'S', 'f']): Promise<RelationInfo[]> {
  const { rows } = await db.query(
    `
    SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind, pg_get_userbyid(c.relowner) AS owner,
           c.relpersistence AS persistence, c.relispartition AS is_partition,
           -- before 14, "never vacuumed or analyzed" was reltuples = 0 with relpages = 0 (14+: reltuples = -1)
           CASE WHEN current_setting('server_version_num')::int < 140000 AND c.reltuples = 0 AND c.relpages = 0
                THEN -1 ELSE c.reltuples END::float8 AS reltuples, c.relpages AS relpages,
           pg_relation_size(c.oid) AS table_bytes, pg_indexes_size(c.oid) AS index_bytes,
           CASE WHEN c.reltoastrelid <> 0 THEN pg_total_relation_size(c.reltoastrelid) ELSE 0 END AS toast_bytes,
           pg_total_relation_size(c.oid) AS total_bytes
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = ANY($1::"char"[]) AND ${USER_SCHEMA}
     ORDER BY n.nspname, c.relname`,
    [kinds],
  );
  return rows.map((r) => {
    const tuples = Number(r.reltuples);
    // -1: never vacuumed or analyzed (the query maps 13's 0/0 to it too)
    const estimatedRows = tuples < 0 ? null : Math.round(tuples);
    return {
      schema: r.schema,
      name: r.name,
      kind: r.kind as RelKind,
      owner: r.owner,
      persistence: r.persistence,
      isPartition: Boolean(r.is_partition),
      estimatedRows: r.kind === 'r' || r.kind === 'm' || r.kind === 'p' ? estimatedRows : null,
      tableBytes: num(r.table_bytes),
      indexBytes: num(r.index_bytes),
      toastBytes: num(r.toast_bytes),
      totalBytes: num(r.total_bytes),
    };
  });
}

export interface SequenceInfo {
  schema: string;
  name: string;
  dataType: string;
  start: string;
  increment: string;
  /** null when never used or not readable by this user. */
  lastValue: string | null;
  /** "schema.table.column" for serial/identity sequences. */
  ownedBy: string | null;
}

export async function listSequences(db: Queryable): Promise<SequenceInfo[]> {
  const { rows } = await db.query(`
    SELECT n.nspname AS schema, c.relname AS name, format_type(s.seqtypid, NULL) AS data_type,
           s.seqstart::text AS start, s.seqincrement::text AS increment,
           CASE WHEN has_sequence_privilege(c.oid, 'SELECT')
                THEN pg_sequence_last_value(c.oid)::text END AS last_value,
           (SELECT quote_ident(tn.nspname) || '.' || quote_ident(t.relname) || '.' || quote_ident(a.attname)
              FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
              JOIN pg_namespace tn ON tn.oid = t.relnamespace
              JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
             WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
               AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
             LIMIT 1) AS owned_by
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_sequence s ON s.seqrelid = c.oid
     WHERE c.relkind = 'S' AND ${USER_SCHEMA}
     ORDER BY 1, 2`);
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    dataType: r.data_type,
    start: r.start,
    increment: r.increment,
    lastValue: r.last_value ?? null,
    ownedBy: r.owned_by ?? null,
  }));
}

export interface FunctionInfo {
  schema: string;
  name: string;
  /** Identity arguments, e.g. "customer_id integer". */
  arguments: string;
  /** Result type; null for procedures. */
  returns: string | null;
  kind: 'function' | 'procedure' | 'aggregate' | 'window';
  language: string;
}

const PROKIND: Record<string, FunctionInfo['kind']> = { f: 'function', p: 'procedure', a: 'aggregate', w: 'window' };

/** Functions and procedures in user schemas, leaving out those that belong to extensions. */
export async function listFunctions(db: Queryable): Promise<FunctionInfo[]> {
  const { rows } = await db.query(`
    SELECT n.nspname AS schema, p.proname AS name,
           pg_get_function_identity_arguments(p.oid) AS args,
           CASE WHEN p.prokind = 'p' THEN NULL ELSE pg_get_function_result(p.oid) END AS returns,
           p.prokind AS kind, l.lanname AS language
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      JOIN pg_language l ON l.oid = p.prolang
     WHERE ${USER_SCHEMA}
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
     ORDER BY 1, 2, 3`);
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    arguments: r.args,
    returns: r.returns ?? null,
    kind: PROKIND[r.kind] ?? 'function',
    language: r.language,
  }));
}

export interface IndexInfo {
  schema: string;
  table: string;
  name: string;
  /** Access method: btree, hash, gin, gist, brin... */
  method: string;
  unique: boolean;
  primary: boolean;
  /** pg_get_indexdef(): the CREATE INDEX statement. */
  definition: string;
  sizeBytes: number;
}

export async function listIndexes(db: Queryable, table?: { schema: string; name: string }): Promise<IndexInfo[]> {
  const { rows } = await db.query(
    `
    SELECT n.nspname AS schema, t.relname AS table, i.relname AS name, am.amname AS method,
           x.indisunique AS is_unique, x.indisprimary AS is_primary,
           pg_get_indexdef(i.oid) AS definition, pg_relation_size(i.oid) AS size
      FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class t ON t.oid = x.indrelid
      JOIN pg_namespace n ON n.oid = i.relnamespace
      JOIN pg_am am ON am.oid = i.relam
     WHERE ${USER_SCHEMA}
       AND ($1::text IS NULL OR (n.nspname = $1 AND t.relname = $2))
     ORDER BY 1, 2, 3`,
    [table?.schema ?? null, table?.name ?? null],
  );
  return rows.map((r) => ({
    schema: r.schema,
    table: r.table,
    name: r.name,
    method: r.method,
    unique: Boolean(r.is_unique),
    primary: Boolean(r.is_primary),
    definition: r.definition,
    sizeBytes: num(r.size),
  }));
}
