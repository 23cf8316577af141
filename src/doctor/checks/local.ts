/**
 * Checks for `--method local` (pg_backup_start/stop plus reading PGDATA on the database host)
 * and, for the data directory, `--method cold`.
 */
import { backupFunctions } from '../../pg/catalog.js';
import type { DoctorCheck, DoctorFacts } from '../types.js';
import { asked, check, sqlIdent } from './make.js';

export function backupFunctionsCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['local']);
  const role = facts.role;
  if (!usedBy.length || !role || !facts.server) return null;
  const fn = backupFunctions(facts.server.major);
  const names = `${fn.start.split('(')[0]}/${fn.stop.split('(')[0]}`;
  if (role.superuser) return check('local', 'backup_functions', usedBy, 'PASS', `${role.name} is a superuser and may run ${names}`);
  if (role.canBackupStart && role.canBackupStop) {
    return check('local', 'backup_functions', usedBy, 'PASS', `${role.name} may execute ${names}`);
  }
  const grants = [
    ...(role.canBackupStart ? [] : [`GRANT EXECUTE ON FUNCTION ${fn.start} TO ${sqlIdent(role.name)};`]),
    ...(role.canBackupStop ? [] : [`GRANT EXECUTE ON FUNCTION ${fn.stop} TO ${sqlIdent(role.name)};`]),
  ];
  return check(
    'local',
    'backup_functions',
    usedBy,
    'FAIL',
    `${role.name} may not execute ${names}, which start and stop a local backup`,
    `as a superuser:\n${grants.join('\n')}`,
    'none',
  );
}

export function readAllSettingsCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['local']);
  const role = facts.role;
  if (!usedBy.length || !role) return null;
  if (role.superuser || role.readAllSettings) {
    return check('local', 'read_all_settings', usedBy, 'PASS', `${role.name} can read all settings (data_directory included)`);
  }
  return check(
    'local',
    'read_all_settings',
    usedBy,
    'WARN',
    `${role.name} cannot read data_directory and other superuser-only settings, so pgkeep cannot confirm which directory to copy`,
    `as a superuser: GRANT pg_read_all_settings TO ${sqlIdent(role.name)};`,
    'none',
  );
}

export function pgdataCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['local', 'cold']);
  const p = facts.pgdata;
  if (!usedBy.length || !p) return null;
  const section = usedBy[0]!;
  const serverDir = facts.server?.dataDirectory ?? null;
  const where = `in [cluster.${facts.clusterName}] of pgkeep.toml (or pass --pgdata, or set PGKEEP_PGDATA)`;
  if (!p.configured) {
    return check(
      section,
      'pgdata',
      usedBy,
      'WARN',
      'pgdata is not configured: local and cold backups read the data directory and need to know where it is',
      `pgdata = "${serverDir ?? '/var/lib/postgresql/<major>/main'}"   # ${where}`,
      'none',
    );
  }
  if (p.problem) {
    const permission = /permission denied/.test(p.problem);
    return check(
      section,
      'pgdata',
      usedBy,
      'FAIL',
      `pgdata ${p.configured} ${p.problem}`,
      permission
        ? 'run pgkeep on the database host as the OS user that owns the data directory (e.g. sudo -u postgres pgkeep ...)'
        : `pgdata = "${serverDir ?? "<the server's data directory (SHOW data_directory)>"}"   # ${where}`,
      'none',
    );
  }
  if (serverDir) {
    const same = p.serverRealpath ? p.serverRealpath === p.realpath : serverDir === p.configured;
    if (!same) {
      return check(
        section,
        'pgdata',
        usedBy,
        'FAIL',
        `pgdata is ${p.configured}${p.realpath && p.realpath !== p.configured ? ` (${p.realpath})` : ''}, ` +
          `but the server's data_directory is ${serverDir}`,
        `pgdata = "${serverDir}"   # ${where}`,
        'none',
      );
    }
  }
  const serverId = facts.server?.systemIdentifier;
  const dirId = p.control?.systemIdentifier;
  if (serverId && dirId && serverId !== dirId) {
    return check(
      section,
      'pgdata',
      usedBy,
      'FAIL',
      `pgdata ${p.configured} belongs to another cluster (system identifier ${dirId}, the server's is ${serverId})`,
      `pgdata = "${serverDir ?? "<the server's data directory>"}"   # ${where}`,
      'none',
    );
  }
  const how = serverDir
    ? "is the server's data_directory"
    : serverId && dirId
      ? 'has the same system identifier as the server'
      : 'is a data directory';
  return check(section, 'pgdata', usedBy, 'PASS', `${p.configured} ${how} and is readable by this process`);
}
