/** Databases and roles (shared catalogs: the same from every database). */

import { Queryable, numOrNull } from './queryable.js';

export interface DatabaseInfo {
  name: string;
  owner: string;
  encoding: string;
  collate: string;
  ctype: string;
  /** datlocprovider (15+; libc before): with icu or builtin, `locale` is the database's collation, not `collate`. */
  localeProvider: 'libc' | 'icu' | 'builtin';
  /** daticulocale (15, 16) or datlocale (17+); null for libc. */
  locale: string | null;
  tablespace: string;
  isTemplate: boolean;
  allowConnections: boolean;
  connectionLimit: number;
  /** The current user has CONNECT on it. */
  canConnect: boolean;
  /** pg_database_size(); null when not allowed (no CONNECT and not pg_read_all_stats). */
  sizeBytes: number | null;
}

export async function listDatabases(db: Queryable): Promise<DatabaseInfo[]> {
  const { rows } = await db.query(`
    SELECT d.datname AS name, pg_get_userbyid(d.datdba) AS owner,
           pg_encoding_to_char(d.encoding) AS encoding, d.datcollate AS collate, d.datctype AS ctype,
           -- through to_jsonb: the columns differ by version (datlocprovider 15+, daticulocale 15-16, datlocale 17+)
           to_jsonb(d) ->> 'datlocprovider' AS provider, coalesce(to_jsonb(d) ->> 'datlocale', to_jsonb(d) ->> 'daticulocale') AS locale,
           t.spcname AS tablespace, d.datistemplate AS is_template, d.datallowconn AS allow_conn,
           d.datconnlimit AS conn_limit, has_database_privilege(d.oid, 'CONNECT') AS can_connect,
           CASE WHEN has_database_privilege(d.oid, 'CONNECT')
                  OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')
                THEN pg_database_size(d.oid) END AS size
      FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace
     ORDER BY d.datname`);
  return rows.map((r) => ({
    name: r.name,
    owner: r.owner,
    encoding: r.encoding,
    collate: r.collate,
    ctype: r.ctype,
    localeProvider: r.provider === 'i' ? 'icu' : r.provider === 'b' ? 'builtin' : 'libc',
    locale: r.provider === 'i' || r.provider === 'b' ? (r.locale ?? null) : null,
    tablespace: r.tablespace,
    isTemplate: Boolean(r.is_template),
    allowConnections: Boolean(r.allow_conn),
    connectionLimit: Number(r.conn_limit),
    canConnect: Boolean(r.can_connect),
    sizeBytes: numOrNull(r.size),
  }));
}

export interface RoleInfo {
  name: string;
  login: boolean;
  superuser: boolean;
  replication: boolean;
  createdb: boolean;
  createrole: boolean;
  bypassrls: boolean;
  inherit: boolean;
  /** -1 = no limit. */
  connectionLimit: number;
  validUntil: Date | null;
  /** Roles it is directly a member of (GRANT role TO this). */
  memberOf: string[];
}

/** Roles from pg_roles; the predefined pg_* roles are left out unless asked. */
export async function listRoles(db: Queryable, opts: { includePredefined?: boolean } = {}): Promise<RoleInfo[]> {
  const { rows } = await db.query(
    `
    SELECT r.rolname AS name, r.rolcanlogin AS login, r.rolsuper AS superuser,
           r.rolreplication AS replication, r.rolcreatedb AS createdb, r.rolcreaterole AS createrole,
           r.rolbypassrls AS bypassrls, r.rolinherit AS inherit, r.rolconnlimit AS conn_limit,
           r.rolvaliduntil AS valid_until,
           ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                  WHERE m.member = r.oid ORDER BY 1) AS member_of
      FROM pg_roles r
     WHERE $1 OR r.rolname !~ '^pg_'
     ORDER BY r.rolname`,
    [opts.includePredefined ?? false],
  );
  return rows.map((r) => ({
    name: r.name,
    login: Boolean(r.login),
    superuser: Boolean(r.superuser),
    replication: Boolean(r.replication),
    createdb: Boolean(r.createdb),
    createrole: Boolean(r.createrole),
    bypassrls: Boolean(r.bypassrls),
    inherit: Boolean(r.inherit),
    connectionLimit: Number(r.conn_limit),
    validUntil: r.valid_until ?? null,
    memberOf: r.member_of ?? [],
  }));
}
