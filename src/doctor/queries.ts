/** The catalog queries only doctor needs: table read access, where settings are set. */
import type { Queryable } from '../pg/catalog.js';
import type { ReadAccessFacts, SettingSource } from './types.js';

/** Replication slots are read by the monitor too: the query lives in pg/catalog. */
export { slotFacts } from '../pg/catalog.js';

/**
 * What pg_dump must be able to read in the connected database: every table, view, materialized
 * view and sequence outside the system schemas (pg_read_all_data covers them all).
 */
export async function readAccessFacts(db: Queryable, major: number): Promise<ReadAccessFacts> {
  const readAllData =
    major >= 14 ? Boolean((await db.query("SELECT pg_has_role(current_user, 'pg_read_all_data', 'USAGE') AS ok")).rows[0].ok) : false;
  const { rows } = await db.query(`
    WITH u AS (
      SELECT n.nspname::text AS schema, format('%I.%I', n.nspname, c.relname) AS name
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
         AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
         AND n.nspname NOT LIKE 'pg\\_temp\\_%'
         AND NOT (has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')))
    SELECT ARRAY(SELECT name FROM u ORDER BY 1 LIMIT 5) AS names, (SELECT count(*) FROM u)::int AS total,
           ARRAY(SELECT DISTINCT schema FROM u ORDER BY 1) AS schemas`);
  const r = rows[0];
  return { readAllData, unreadable: r.names ?? [], unreadableCount: Number(r.total), unreadableSchemas: r.schemas ?? [] };
}

/** Where each setting is set now (pg_settings.sourcefile; visible to superusers and pg_read_all_settings). */
export async function settingSources(db: Queryable, names: readonly string[]): Promise<Record<string, SettingSource>> {
  const { rows } = await db.query(
    'SELECT name, sourcefile, sourceline FROM pg_settings WHERE name = ANY($1::text[]) AND sourcefile IS NOT NULL',
    [names],
  );
  return Object.fromEntries(rows.map((r) => [r.name as string, { file: r.sourcefile as string, line: Number(r.sourceline) }]));
}
