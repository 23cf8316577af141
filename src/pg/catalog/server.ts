/** Server banner, version and identity. */

import { Queryable } from './queryable.js';

export interface ServerInfo {
  /** version(): the full banner. */
  versionString: string;
  /** server_version, e.g. "15.18 (Debian 15.18-0+deb12u1)". */
  version: string;
  /** server_version_num, e.g. 150018. */
  versionNum: number;
  major: number;
  /** From pg_control_system(); null when the function is not allowed. */
  systemIdentifier: string | null;
  /** data_directory; null unless superuser or member of pg_read_all_settings. */
  dataDirectory: string | null;
  currentUser: string;
  sessionUser: string;
  database: string;
  isSuperuser: boolean;
  inRecovery: boolean;
  /** The client address as the server sees it (null over a unix socket). */
  clientAddress: string | null;
  ssl: boolean;
  startedAt: Date | null;
}

export async function serverInfo(db: Queryable): Promise<ServerInfo> {
  const { rows } = await db.query(`
    SELECT version() AS version_string,
           current_setting('server_version') AS version,
           current_setting('server_version_num')::int AS version_num,
           (SELECT setting FROM pg_settings WHERE name = 'data_directory') AS data_directory,
           current_user AS current_user, session_user AS session_user,
           current_database() AS database,
           (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS is_superuser,
           pg_is_in_recovery() AS in_recovery,
           host(inet_client_addr()) AS client_addr,
           coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false) AS ssl,
           pg_postmaster_start_time() AS started_at`);
  const r = rows[0];
  let systemIdentifier: string | null = null;
  try {
    const s = await db.query('SELECT system_identifier::text AS id FROM pg_control_system()');
    systemIdentifier = s.rows[0]?.id ?? null;
  } catch {
    // EXECUTE revoked: leave it unknown.
  }
  const versionNum = Number(r.version_num);
  return {
    versionString: r.version_string,
    version: r.version,
    versionNum,
    major: Math.floor(versionNum / 10000),
    systemIdentifier,
    dataDirectory: r.data_directory ?? null,
    currentUser: r.current_user,
    sessionUser: r.session_user,
    database: r.database,
    isSuperuser: Boolean(r.is_superuser),
    inRecovery: Boolean(r.in_recovery),
    clientAddress: r.client_addr ?? null,
    ssl: Boolean(r.ssl),
    startedAt: r.started_at ?? null,
  };
}
