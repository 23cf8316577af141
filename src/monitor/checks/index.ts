/** Every health check of one cluster, from one round of facts (pure: no I/O). */
import type { MonitorSettings } from '../../config/monitor.js';
import type { ClusterFacts, HealthCheck } from '../types.js';
import { archiveCheck } from './archive.js';
import { backupAgeCheck, jobsCheck, repositoryCheck, walContinuityCheck } from './repository.js';
import { slotsCheck, walSpaceCheck } from './wal-space.js';
import { drillCheck, drillRtoCheck } from './drill.js';

export function runChecks(f: ClusterFacts, m: MonitorSettings): HealthCheck[] {
  return [
    archiveCheck(f, m),
    walSpaceCheck(f, m),
    slotsCheck(f, m),
    repositoryCheck(f),
    walContinuityCheck(f),
    backupAgeCheck(f, m),
    jobsCheck(f),
    drillCheck(f),
    drillRtoCheck(f),
  ];
}

export { archiveLag } from './archive-lag.js';
export { worst } from './make.js';
