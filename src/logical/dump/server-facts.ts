/** What a dump needs to know about the server before it starts, from one short connection. */
import type { ClusterSettings } from '../../config/types.js';
import { withClient } from '../../pg/connect.js';

export interface ServerFacts {
  version: string;
  versionNum: number;
  major: number;
  /** The database the connection reaches. */
  database: string;
  /**
   * Databases a cluster dump covers, as pg_dumpall chooses them: every one that accepts
   * connections but template0 (template1 first: what a DBA put there is in every new database).
   */
  databases: string[];
  roles: string[];
}

export async function readServerFacts(cluster: ClusterSettings, opts: { database?: string; signal?: AbortSignal }): Promise<ServerFacts> {
  return withClient(cluster, { database: opts.database, signal: opts.signal }, async (c) => {
    const r = await c.query(`select current_setting('server_version') as version,
        current_setting('server_version_num')::int as num, current_database() as db,
        array(select datname::text from pg_database where datallowconn and datname <> 'template0' and datconnlimit <> -2
          order by datname <> 'template1', datname) as dbs,
        array(select rolname::text from pg_roles order by rolname) as roles`);
    const row = r.rows[0];
    return {
      version: String(row.version),
      versionNum: Number(row.num),
      major: Math.floor(Number(row.num) / 10000),
      database: String(row.db),
      databases: row.dbs as string[],
      roles: row.roles as string[],
    };
  });
}

/** Schema names of one database (to split `pg_restore -l` lines right). */
export async function readSchemas(cluster: ClusterSettings, database: string, signal?: AbortSignal): Promise<string[]> {
  return withClient(cluster, { database, signal }, async (c) =>
    (await c.query('select nspname from pg_namespace')).rows.map((r) => String(r.nspname)),
  );
}
