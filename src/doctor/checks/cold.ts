/** Checks for `--method cold`: the cluster must be cleanly shut down when it is copied. */
import type { DoctorCheck, DoctorFacts } from '../types.js';
import { clusterCommand } from './advice.js';
import { asked, check } from './make.js';

export function clusterStateCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['cold']);
  const p = facts.pgdata;
  if (!usedBy.length || !p?.configured || p.problem) return null;
  if (!p.control) {
    return check(
      'cold',
      'cluster_state',
      usedBy,
      'FAIL',
      `cannot read the control file of ${p.configured}: ${p.controlError ?? 'unknown error'}`,
      p.controlToolMajor !== undefined
        ? controlToolFix(p.controlToolMajor)
        : 'make sure the data directory is readable by this user (global/pg_control)',
      'none',
    );
  }
  const state = p.control.clusterState ?? 'unknown';
  if (p.control.crcMismatch) {
    return check(
      'cold',
      'cluster_state',
      usedBy,
      'FAIL',
      `the control file global/pg_control of ${p.configured} is damaged: its CRC does not match its content ` +
        `(pg_controldata's "${state}" cannot be trusted); neither a cold backup nor the server can use it`,
      'restore the cluster from a backup (pgkeep restore), and check the disk it lives on',
      'none',
    );
  }
  if (p.control.cleanlyShutDown) {
    return check('cold', 'cluster_state', usedBy, 'PASS', `the control file says "${state}": ready for a cold backup`);
  }
  const proc = facts.serverProcess;
  const connected = !facts.connectionError && facts.server !== undefined;
  if (connected || proc?.alive) {
    // Running, even when doctor could not log in (peer authentication as root, pg_hba.conf...).
    const how = connected
      ? 'the server is running'
      : `a server is running on it (postmaster.pid: pid ${proc!.pid}${proc!.isReady && proc!.isReady !== 'unknown' ? `, pg_isready: ${proc!.isReady}` : ''}), ` +
        'though doctor could not log in (see reachable)';
    return check(
      'cold',
      'cluster_state',
      usedBy,
      'WARN',
      `${how}; the control file says "${state}"; a cold backup copies a cleanly stopped cluster`,
      `stop it before a cold backup: ${clusterCommand(facts, 'stop')}` +
        `${facts.layout?.debian ? ` (or systemctl stop ${facts.layout.debian.unit})` : ''}`,
      'none',
    );
  }
  return check(
    'cold',
    'cluster_state',
    usedBy,
    'FAIL',
    `the control file says "${state}" but no server runs on it (${proc?.pidFile ? `postmaster.pid is stale: pid ${proc.pid ?? '?'} is not a running PostgreSQL server` : 'no postmaster.pid'}): ` +
      'it was not shut down cleanly (crash, kill -9, power loss)',
    `start the server so it recovers, then stop it cleanly: ${clusterCommand(facts, 'start')} && ${clusterCommand(facts, 'stop')}`,
    'none',
  );
}

/** pg_controldata is in Debian's server package (postgresql-<major>), not in postgresql-client-<major>. */
function controlToolFix(major: number): string {
  return (
    `install postgresql-${major} (Debian/Ubuntu: pg_controldata comes with the server package, in /usr/lib/postgresql/${major}/bin; ` +
    `apt.postgresql.org has every major), or set pg_bin in [cluster.NAME] (or PGKEEP_PG_BIN) to a directory holding pg_controldata ${major}`
  );
}
