/** One table: find it by name, list its columns. */

import { RelKind } from './objects.js';
import { Queryable } from './queryable.js';

export interface TableRef {
  oid: number;
  schema: string;
  name: string;
  kind: RelKind;
}

/**
 * Resolve a table name the way SQL does (search_path, "quoted" identifiers, schema.table).
 * Returns null when there is no such relation.
 */
export async function findRelation(db: Queryable, name: string): Promise<TableRef | null> {
  const { rows } = await db.query(
    `
    SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = to_regclass($1)`,
    [name],
  );
  const r = rows[0];
  return r ? { oid: Number(r.oid), schema: r.schema, name: r.name, kind: r.kind } : null;
}

export interface ColumnInfo {
  position: number;
  name: string;
  /** format_type(atttypid, atttypmod), e.g. "character varying(100)", "numeric(10,2)". */
  type: string;
  notNull: boolean;
  /** pg_get_expr(adbin) of the default, or the generation expression of a generated column. */
  default: string | null;
  /** 'always' | 'by default' for identity columns. */
  identity: 'always' | 'by default' | null;
  generated: boolean;
  collation: string | null;
}

export async function listColumns(db: Queryable, tableOid: number): Promise<ColumnInfo[]> {
  const { rows } = await db.query(
    `
    SELECT a.attnum AS position, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
           a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default,
           a.attidentity AS identity, a.attgenerated AS generated,
           CASE WHEN a.attcollation <> t.typcollation THEN co.collname END AS collation
      FROM pg_attribute a
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      LEFT JOIN pg_collation co ON co.oid = a.attcollation
     WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum`,
    [tableOid],
  );
  return rows.map((r) => ({
    position: Number(r.position),
    name: r.name,
    type: r.type,
    notNull: Boolean(r.not_null),
    default: r.default ?? null,
    identity: r.identity === 'a' ? 'always' : r.identity === 'd' ? 'by default' : null,
    generated: Boolean(r.generated),
    collation: r.collation ?? null,
  }));
}
