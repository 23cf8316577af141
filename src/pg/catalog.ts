/**
 * Typed queries on the system catalogs. Each function takes an open session (anything with
 * `query`, e.g. a pg.Client) and returns plain data; nothing here prints or decides.
 *
 * Works on PostgreSQL 12 and newer. Sizes are numbers of bytes (a cluster under 8 PB fits in a
 * double exactly); 64-bit identifiers are decimal strings.
 */

/** The part of pg.Client that catalog queries need. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** SQL condition that leaves out system schemas (n = pg_namespace alias). */
const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname !~ '^pg_temp_' AND n.nspname !~ '^pg_toast_temp_'`;

// ---------------------------------------------------------------------------------------------
// server

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

// ---------------------------------------------------------------------------------------------
// settings

/** The settings that decide how (and whether) a cluster can be backed up. */
export const BACKUP_SETTINGS = [
  'wal_level', 'archive_mode', 'archive_command', 'archive_library', 'archive_timeout',
  'max_wal_senders', 'max_replication_slots', 'wal_keep_size', 'max_slot_wal_keep_size',
  'summarize_wal', 'wal_summary_keep_time', 'data_checksums', 'full_page_writes', 'wal_log_hints',
  'wal_compression', 'wal_segment_size', 'block_size', 'max_wal_size', 'checkpoint_timeout',
  'data_directory', 'config_file', 'hba_file', 'listen_addresses', 'port',
] as const;

export interface Setting {
  name: string;
  /** The value as the server reports it, with `unit` (archive_command: the configured value). */
  setting: string;
  unit: string | null;
  /** postmaster = restart to change; sighup = reload; internal = fixed at initdb/build. */
  context: string;
  source: string;
  /** Changed in the config file but waiting for a restart. */
  pendingRestart: boolean;
}

/**
 * Read settings from pg_settings (rows the user may not see, such as data_directory without
 * pg_read_all_settings, are simply absent). archive_command shows "(disabled)" while
 * archive_mode is off, so its configured value (reset_val) is returned instead.
 */
export async function readSettings(db: Queryable, names: readonly string[] = BACKUP_SETTINGS): Promise<Setting[]> {
  const { rows } = await db.query(`
    SELECT name, CASE WHEN name = 'archive_command' THEN reset_val ELSE setting END AS setting,
           unit, context, source, pending_restart
      FROM pg_settings WHERE name = ANY($1::text[])`, [names]);
  const order = new Map(names.map((n, i) => [n, i]));
  return rows
    .map((r) => ({
      name: r.name as string,
      setting: r.setting as string,
      unit: (r.unit as string | null) ?? null,
      context: r.context as string,
      source: r.source as string,
      pendingRestart: Boolean(r.pending_restart),
    }))
    .sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
}

/** Settings as a name -> value map. */
export function settingsMap(settings: Setting[]): Map<string, string> {
  return new Map(settings.map((s) => [s.name, s.setting]));
}

// ---------------------------------------------------------------------------------------------
// databases and roles (shared catalogs: the same from every database)

export interface DatabaseInfo {
  name: string;
  owner: string;
  encoding: string;
  collate: string;
  ctype: string;
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
  const { rows } = await db.query(`
    SELECT r.rolname AS name, r.rolcanlogin AS login, r.rolsuper AS superuser,
           r.rolreplication AS replication, r.rolcreatedb AS createdb, r.rolcreaterole AS createrole,
           r.rolbypassrls AS bypassrls, r.rolinherit AS inherit, r.rolconnlimit AS conn_limit,
           r.rolvaliduntil AS valid_until,
           ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                  WHERE m.member = r.oid ORDER BY 1) AS member_of
      FROM pg_roles r
     WHERE $1 OR r.rolname !~ '^pg_'
     ORDER BY r.rolname`, [opts.includePredefined ?? false]);
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

// ---------------------------------------------------------------------------------------------
// objects inside the current database

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
  const { rows } = await db.query(`
    SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind, pg_get_userbyid(c.relowner) AS owner,
           c.relpersistence AS persistence, c.relispartition AS is_partition,
           c.reltuples::float8 AS reltuples, c.relpages AS relpages,
           pg_relation_size(c.oid) AS table_bytes, pg_indexes_size(c.oid) AS index_bytes,
           CASE WHEN c.reltoastrelid <> 0 THEN pg_total_relation_size(c.reltoastrelid) ELSE 0 END AS toast_bytes,
           pg_total_relation_size(c.oid) AS total_bytes
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = ANY($1::"char"[]) AND ${USER_SCHEMA}
     ORDER BY n.nspname, c.relname`, [kinds]);
  return rows.map((r) => {
    const tuples = Number(r.reltuples);
    // PostgreSQL 14+: -1 = never vacuumed or analyzed (before 14 that showed as 0).
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
  const { rows } = await db.query(`
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
     ORDER BY 1, 2, 3`, [table?.schema ?? null, table?.name ?? null]);
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

// ---------------------------------------------------------------------------------------------
// one table's columns

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
  const { rows } = await db.query(`
    SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = to_regclass($1)`, [name]);
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
  const { rows } = await db.query(`
    SELECT a.attnum AS position, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
           a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default,
           a.attidentity AS identity, a.attgenerated AS generated,
           CASE WHEN a.attcollation <> t.typcollation THEN co.collname END AS collation
      FROM pg_attribute a
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      LEFT JOIN pg_collation co ON co.oid = a.attcollation
     WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum`, [tableOid]);
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

// ---------------------------------------------------------------------------------------------
// facts for `doctor`

export interface RoleFacts {
  name: string;
  superuser: boolean;
  replication: boolean;
  /** Every role the current user belongs to, directly or indirectly (itself included; superuser status ignored). */
  memberOf: string[];
  /** Has the privileges of pg_read_all_settings (or is superuser). */
  readAllSettings: boolean;
  /** EXECUTE on pg_backup_start/pg_backup_stop (pg_start_backup/pg_stop_backup before 15). */
  canBackupStart: boolean;
  canBackupStop: boolean;
}

/** Names of the low-level backup functions, with their argument types, for a server major. */
export function backupFunctions(major: number): { start: string; stop: string } {
  return major >= 15
    ? { start: 'pg_backup_start(text, boolean)', stop: 'pg_backup_stop(boolean)' }
    : { start: 'pg_start_backup(text, boolean, boolean)', stop: 'pg_stop_backup(boolean, boolean)' };
}

export async function roleFacts(db: Queryable, major: number): Promise<RoleFacts> {
  const fn = backupFunctions(major);
  const { rows } = await db.query(`
    WITH RECURSIVE m(oid) AS (
      SELECT oid FROM pg_roles WHERE rolname = current_user
      UNION SELECT a.roleid FROM pg_auth_members a JOIN m ON a.member = m.oid)
    SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolreplication AS replication,
           ARRAY(SELECT g.rolname::text FROM m JOIN pg_roles g ON g.oid = m.oid ORDER BY 1) AS member_of,
           pg_has_role(current_user, 'pg_read_all_settings', 'USAGE') AS read_all_settings,
           has_function_privilege($1, 'EXECUTE') AS can_start,
           has_function_privilege($2, 'EXECUTE') AS can_stop
      FROM pg_roles r WHERE r.rolname = current_user`, [fn.start, fn.stop]);
  const r = rows[0];
  return {
    name: r.name,
    superuser: Boolean(r.superuser),
    replication: Boolean(r.replication),
    memberOf: r.member_of ?? [],
    readAllSettings: Boolean(r.read_all_settings),
    canBackupStart: Boolean(r.can_start),
    canBackupStop: Boolean(r.can_stop),
  };
}

export interface ReplicationUsage {
  /** Running walsenders (standbys, base backups, WAL receivers): rows of pg_stat_replication. */
  walSendersInUse: number;
  /** Existing replication slots (each takes one of max_replication_slots, active or not). */
  slotsInUse: number;
}

export async function replicationUsage(db: Queryable): Promise<ReplicationUsage> {
  const { rows } = await db.query(`
    SELECT (SELECT count(*) FROM pg_stat_replication)::int AS senders,
           (SELECT count(*) FROM pg_replication_slots)::int AS slots`);
  return { walSendersInUse: Number(rows[0].senders), slotsInUse: Number(rows[0].slots) };
}

export interface HbaRule {
  lineNumber: number;
  /** local | host | hostssl | hostnossl | hostgssenc | hostnogssenc */
  type: string;
  database: string[];
  user: string[];
  address: string | null;
  netmask: string | null;
  authMethod: string;
  options: string[] | null;
  /** Set when the line could not be parsed (such lines are ignored by the server). */
  error: string | null;
}

/**
 * The rules of pg_hba.conf as the file reads now (pg_hba_file_rules). Returns null when the
 * current user may not read them (superuser only by default).
 */
export async function readHbaRules(db: Queryable): Promise<HbaRule[] | null> {
  try {
    const { rows } = await db.query(`
      SELECT line_number, type, database, user_name, address, netmask, auth_method, options, error
        FROM pg_hba_file_rules ORDER BY line_number`);
    return rows.map((r) => ({
      lineNumber: Number(r.line_number),
      type: r.type,
      database: r.database ?? [],
      user: r.user_name ?? [],
      address: r.address ?? null,
      netmask: r.netmask ?? null,
      authMethod: r.auth_method,
      options: r.options ?? null,
      error: r.error ?? null,
    }));
  } catch (e) {
    if ((e as { code?: string }).code === '42501') return null;
    throw e;
  }
}

export interface ArchiverStats {
  archivedCount: number;
  lastArchivedWal: string | null;
  lastArchivedTime: Date | null;
  failedCount: number;
  lastFailedWal: string | null;
  lastFailedTime: Date | null;
}

export async function archiverStats(db: Queryable): Promise<ArchiverStats> {
  const { rows } = await db.query(`
    SELECT archived_count, last_archived_wal, last_archived_time,
           failed_count, last_failed_wal, last_failed_time FROM pg_stat_archiver`);
  const r = rows[0];
  return {
    archivedCount: Number(r.archived_count),
    lastArchivedWal: r.last_archived_wal ?? null,
    lastArchivedTime: r.last_archived_time ?? null,
    failedCount: Number(r.failed_count),
    lastFailedWal: r.last_failed_wal ?? null,
    lastFailedTime: r.last_failed_time ?? null,
  };
}
