/** Facts for `doctor`: role privileges, replication usage, pg_hba rules, the archiver. */

import { Queryable } from './queryable.js';

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
  const { rows } = await db.query(
    `
    WITH RECURSIVE m(oid) AS (
      SELECT oid FROM pg_roles WHERE rolname = current_user
      UNION SELECT a.roleid FROM pg_auth_members a JOIN m ON a.member = m.oid)
    SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolreplication AS replication,
           ARRAY(SELECT g.rolname::text FROM m JOIN pg_roles g ON g.oid = m.oid ORDER BY 1) AS member_of,
           pg_has_role(current_user, 'pg_read_all_settings', 'USAGE') AS read_all_settings,
           has_function_privilege($1, 'EXECUTE') AS can_start,
           has_function_privilege($2, 'EXECUTE') AS can_stop
      FROM pg_roles r WHERE r.rolname = current_user`,
    [fn.start, fn.stop],
  );
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
