/** Checks for `--method cold`: the cluster must be cleanly shut down when it is copied. */
import type { DoctorCheck, DoctorFacts } from '../types.js';
import { asked, check } from './make.js';

export function clusterStateCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['cold']);
  const p = facts.pgdata;
  if (!usedBy.length || !p?.configured || p.problem) return null;
  if (!p.control) {
    return check('cold', 'cluster_state', usedBy, 'FAIL',
      `cannot read the control file of ${p.configured}: ${p.controlError ?? 'unknown error'}`,
      'make sure pg_controldata of the same major version is installed and the directory is readable', 'none');
  }
  const state = p.control.clusterState ?? 'unknown';
  if (p.control.cleanlyShutDown) {
    return check('cold', 'cluster_state', usedBy, 'PASS', `pg_controldata says "${state}": ready for a cold backup`);
  }
  const running = !facts.connectionError && facts.server !== undefined;
  if (running) {
    return check('cold', 'cluster_state', usedBy, 'WARN',
      `the server is running (pg_controldata says "${state}"); a cold backup copies a cleanly stopped cluster`,
      `stop it before a cold backup: pg_ctl stop -D ${p.configured} -m fast (or systemctl stop postgresql@<major>-<name>)`, 'none');
  }
  return check('cold', 'cluster_state', usedBy, 'FAIL',
    `pg_controldata says "${state}" but the server does not answer: it was not shut down cleanly (crash, kill -9, power loss)`,
    `start the server so it recovers, then stop it cleanly: pg_ctl start -D ${p.configured} -w && pg_ctl stop -D ${p.configured} -m fast`, 'none');
}
