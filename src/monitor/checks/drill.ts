/**
 * Restore drills (`pgkeep drill`, docs/operations.md), from the newest record in the repository:
 * "drill" is CRITICAL when the newest drill failed (a restore that does not work is the worst
 * news a backup tool can give); "drill_rto" WARNs when the newest passed drill took longer than
 * [drill] max_rto. Neither alerts when no drill was ever recorded (drills are optional).
 */
import type { ClusterFacts, HealthCheck } from '../types.js';
import { age, result } from './make.js';

const seconds = (s: number) => age(s * 1000);

export function drillCheck(f: ClusterFacts): HealthCheck {
  if (f.repoError) return result('drill', 'UNKNOWN', `the repository could not be read: ${f.repoError}`, 'see the repository check');
  const d = f.drill?.newest;
  if (!d) return result('drill', 'OK', `no restore drill recorded for cluster ${f.cluster}`);
  const when = `${age(f.at.getTime() - Date.parse(d.finishedAt))} ago`;
  if (!d.ok) {
    return result(
      'drill',
      'CRITICAL',
      `the newest restore drill ${d.id} (${when}) failed in phase ${d.failedPhase}: ${d.error}`,
      `pgkeep --cluster ${f.cluster} drill show ${d.id} gives the phases and checks; fix the cause and run "pgkeep --cluster ${f.cluster} drill" again`,
    );
  }
  return result('drill', 'OK', `the newest restore drill ${d.id} (${when}) passed, RTO ${seconds(d.rtoSeconds)}`);
}

export function drillRtoCheck(f: ClusterFacts): HealthCheck {
  if (f.repoError) return result('drill_rto', 'UNKNOWN', `the repository could not be read: ${f.repoError}`, 'see the repository check');
  const d = f.drill?.newest;
  const limit = f.drill?.maxRtoMs;
  if (!d || !d.ok) return result('drill_rto', 'OK', 'no passed restore drill to measure');
  if (limit === undefined) return result('drill_rto', 'OK', `newest drill's RTO ${seconds(d.rtoSeconds)} (no [drill] max_rto set)`);
  if (d.rtoSeconds * 1000 > limit) {
    const slow = [...d.phases].sort((a, b) => b.seconds - a.seconds)[0];
    return result(
      'drill_rto',
      'WARN',
      `the newest restore drill ${d.id} took ${seconds(d.rtoSeconds)}, above [drill] max_rto ${seconds(limit / 1000)}` +
        (slow ? ` (slowest phase: ${slow.name}, ${seconds(slow.seconds)})` : ''),
      'a newer full backup shortens the WAL to replay (phase wal); faster storage or more restore jobs shorten phase restore; or raise max_rto',
    );
  }
  return result('drill_rto', 'OK', `newest drill's RTO ${seconds(d.rtoSeconds)}, within [drill] max_rto ${seconds(limit / 1000)}`);
}
