/**
 * Checks every method shares: can we connect, is the version supported, is wal_level enough
 * for physical backups, does the cluster have data checksums.
 */
import type { DoctorCheck, DoctorFacts } from '../types.js';
import { clusterCommand, confChange } from './advice.js';
import { asked, check, setting } from './make.js';

/** The oldest major pgkeep supports and tests (doctor's catalog queries need 13's pg_replication_slots columns). */
export const MIN_MAJOR = 13;

export function reachableCheck(facts: DoctorFacts): DoctorCheck {
  const usedBy = [...facts.methods];
  if (!facts.connectionError) {
    const s = facts.server!;
    return check(
      'server',
      'reachable',
      usedBy,
      'PASS',
      `connected to ${facts.target} as ${s.currentUser}${s.isSuperuser ? ' (superuser)' : ''}` +
        `${s.inRecovery ? '; the server is a standby (in recovery)' : ''}`,
    );
  }
  const err = facts.connectionError;
  // A cold backup wants the server stopped: not reaching it is then expected.
  const onlyCold = facts.methods.every((m) => m === 'cold');
  return check(
    'server',
    'reachable',
    usedBy,
    onlyCold ? 'WARN' : 'FAIL',
    (err.message.startsWith('cannot connect') ? err.message : `cannot connect to ${facts.target}: ${err.message}`) +
      (onlyCold ? ' (fine for a cold backup when the server is stopped; the other checks use the data directory)' : ''),
    withRealFiles(facts, err.hint ?? 'check the connection setting (or PGHOST/PGPORT/PGUSER) and that the server is running'),
    'none',
  );
}

/** Name the cluster's real pg_hba.conf and pg_ident.conf in a connection hint, when known. */
function withRealFiles(facts: DoctorFacts, hint: string): string {
  const l = facts.layout;
  if (!l) return hint;
  return hint
    .replace(/\bpostgresql\.conf\b/g, l.configFile)
    .replace(/\bpg_hba\.conf\b/g, l.hbaFile)
    .replace(/\bpg_ident\.conf\b/g, l.identFile)
    .replace(/then reload\b/, `then reload (${clusterCommand(facts, 'reload')})`);
}

export function versionCheck(facts: DoctorFacts): DoctorCheck | null {
  const s = facts.server;
  if (!s) return null;
  const usedBy = [...facts.methods];
  if (s.major < MIN_MAJOR) {
    return check(
      'server',
      'version',
      usedBy,
      'FAIL',
      `PostgreSQL ${s.version} is not supported; pgkeep needs ${MIN_MAJOR} or newer`,
      `upgrade the server (pg_upgrade, or pg_dump/pg_restore into a newer cluster)`,
    );
  }
  const note =
    s.major >= 15
      ? 'all features available'
      : 'supported; pg_backup_start/pg_backup_stop, BASE_BACKUP TARGET and server-side compression need 15, ' +
        'so pgkeep uses pg_start_backup/pg_stop_backup and client-side compression';
  return check('server', 'version', usedBy, 'PASS', `PostgreSQL ${s.version}: ${note}`);
}

export function walLevelCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['stream', 'local', 'archive']);
  const level = setting(facts, 'wal_level');
  if (!usedBy.length || level === undefined) return null;
  if (level === 'replica' || level === 'logical') {
    return check('server', 'wal_level', usedBy, 'PASS', `wal_level is ${level}: WAL carries what a backup and archive recovery need`);
  }
  const senders = setting(facts, 'max_wal_senders');
  const fix = ['wal_level = replica'];
  if (senders === '0') fix.push('max_wal_senders = 10');
  return check(
    'server',
    'wal_level',
    usedBy,
    'FAIL',
    `wal_level is ${level}: WAL then lacks what hot backups and archive recovery need` +
      (senders === '0' ? ' (and max_wal_senders = 0, which wal_level = minimal requires, allows no replication connections)' : ''),
    confChange(facts, fix, 'restart'),
    'restart',
  );
}

export function checksumsCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['stream', 'local', 'cold']);
  if (!usedBy.length) return null;
  let value = setting(facts, 'data_checksums');
  if (value === undefined && facts.pgdata?.control?.dataChecksumVersion !== undefined) {
    value = facts.pgdata.control.dataChecksumVersion > 0 ? 'on' : 'off';
  }
  if (value === undefined) return null;
  if (value === 'on') {
    return check('server', 'data_checksums', usedBy, 'PASS', 'data checksums are on: backups can detect damaged pages as they read them');
  }
  const pgdata = facts.server?.dataDirectory ?? facts.pgdata?.configured ?? '$PGDATA';
  return check(
    'server',
    'data_checksums',
    usedBy,
    'WARN',
    'data checksums are off: a page damaged on disk is copied into backups without anyone noticing',
    `stop the server cleanly (${clusterCommand(facts, 'stop')}), then as the postgres OS user run\n  pg_checksums --enable -D ${pgdata}\n` +
      `then start it again (${clusterCommand(facts, 'start')}; pg_checksums rewrites every page: plan downtime proportional to the cluster size; ` +
      'replicas need it too, or re-clone them)',
    'restart',
  );
}
