/** Small helpers shared by the catalog queries. */

/** The part of pg.Client that catalog queries need. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** SQL condition that leaves out system schemas (n = pg_namespace alias). */
export const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname !~ '^pg_temp_' AND n.nspname !~ '^pg_toast_temp_'`;
