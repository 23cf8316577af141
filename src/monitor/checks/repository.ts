/** The repository's side: reachable, its WAL continuous, its newest good backup recent, the agent's jobs. */
import type { MonitorSettings } from '../../config/monitor.js';
import type { ClusterFacts, HealthCheck } from '../types.js';
import { age, result } from './make.js';

const unreachable = (f: ClusterFacts, check: 'backup_age' | 'wal_continuity') =>
  result(check, 'UNKNOWN', `the repository could not be read: ${f.repoError}`, 'see the repository check');

export function repositoryCheck(f: ClusterFacts): HealthCheck {
  if (f.repoError) {
    return result(
      'repository',
      'CRITICAL',
      `repository unreachable: ${f.repoError}`,
      'check the [repo] path (mounted? writable by this user?) or the S3 endpoint and credentials; "pgkeep repo check" tells more',
    );
  }
  return result('repository', 'OK', `repository readable; ${f.backups?.length ?? 0} snapshot(s) of cluster ${f.cluster}`);
}

/** The backups whose WAL `wal check` found complete (standalone or with a continuous archive). */
function goodBackupIds(f: ClusterFacts): Set<string> {
  return new Set((f.walCheck?.backups ?? []).filter((b) => b.status === 'ok' || b.status === 'self-contained').map((b) => b.id));
}

export function backupAgeCheck(f: ClusterFacts, m: MonitorSettings): HealthCheck {
  if (f.repoError) return unreachable(f, 'backup_age');
  const good = goodBackupIds(f);
  const physical = (f.backups ?? []).filter((b) => b.kind === 'physical' && good.has(b.id));
  const fix = `take one now: pgkeep --cluster ${f.cluster} backup; and schedule backups (pgkeep agent)`;
  if (physical.length === 0) return result('backup_age', 'CRITICAL', 'no restorable physical backup in the repository', fix);
  const newest = physical.reduce((a, b) => (a.stopTime > b.stopTime ? a : b));
  const ms = f.at.getTime() - Date.parse(newest.stopTime);
  const { limitMs, why } = backupLimit(f, m);
  const text = `newest good physical backup ${newest.id} finished ${age(ms)} ago`;
  if (ms > 2 * limitMs) return result('backup_age', 'CRITICAL', `${text} (limit ${age(limitMs)}${why}, more than twice over)`, fix);
  if (ms > limitMs) return result('backup_age', 'WARN', `${text} (limit ${age(limitMs)}${why})`, fix);
  return result('backup_age', 'OK', text);
}

/**
 * backup_max_age, or tighter when the agent schedules backups of this cluster: one and a half
 * periods of the schedule (from the job's last and next run) without a new good backup is late.
 */
function backupLimit(f: ClusterFacts, m: MonitorSettings): { limitMs: number; why: string } {
  const periods = Object.entries(f.agent?.jobs ?? {})
    .filter(([, j]) => j.kind === 'backup' && (!j.cluster || j.cluster === f.cluster) && j.lastRun && j.nextRun)
    .map(([name, j]) => ({ name, ms: Date.parse(j.nextRun!) - Date.parse(j.lastRun!) }))
    .filter((p) => p.ms > 0)
    .sort((a, b) => a.ms - b.ms);
  const p = periods[0];
  if (!p || p.ms * 1.5 >= m.backupMaxAgeMs) return { limitMs: m.backupMaxAgeMs, why: '' };
  return { limitMs: Math.round(p.ms * 1.5), why: ` from the schedule of job ${p.name}` };
}

export function walContinuityCheck(f: ClusterFacts): HealthCheck {
  if (f.repoError) return unreachable(f, 'wal_continuity');
  const r = f.walCheck!;
  const fix =
    `run "pgkeep --cluster ${f.cluster} wal check" for the details, then take a new backup (pgkeep backup): ` +
    'recovery cannot cross a gap, a backup taken now starts a continuous window again';
  if (r.damaged.length || r.damagedManifests.length) {
    return result(
      'wal_continuity',
      'CRITICAL',
      `${r.damaged.length} damaged WAL file(s) and ${r.damagedManifests.length} damaged manifest(s) in the repository`,
      fix,
    );
  }
  if (r.backups.length === 0)
    return result('wal_continuity', 'OK', `no physical backup to check WAL for (${r.timelines.length} timeline(s) archived)`);
  const newest = r.backups.reduce((a, b) => (a.stopTime > b.stopTime ? a : b));
  if (newest.status === 'gap' || newest.status === 'unrecoverable') {
    return result('wal_continuity', 'CRITICAL', `newest backup ${newest.id}: ${newest.message}`, fix);
  }
  const broken = r.backups.filter((b) => b.status === 'gap' || b.status === 'unrecoverable');
  if (broken.length)
    return result('wal_continuity', 'WARN', `${broken.length} older backup(s) cannot reach the archive's end: ${broken[0]!.message}`, fix);
  if (r.problems.length) return result('wal_continuity', 'WARN', r.problems[0]!, fix);
  return result('wal_continuity', 'OK', `archive continuous for every backup; newest recoverable up to ${newest.to ?? newest.stopLsn}`);
}

export function jobsCheck(f: ClusterFacts): HealthCheck {
  if (f.agentError)
    return result('jobs', 'UNKNOWN', f.agentError, 'check that the agent runs and writes its state file ([monitor] state_file)');
  if (!f.agent) return result('jobs', 'OK', 'no agent state file: no scheduled jobs known');
  const mine = Object.entries(f.agent.jobs).filter(([, j]) => !j.cluster || j.cluster === f.cluster);
  const bad = mine.filter(([, j]) => j.result === 'failed' || j.result === 'missed');
  if (bad.length) {
    return result(
      'jobs',
      'WARN',
      `job(s) ${bad.map(([n, j]) => `${n} ${j.result}${j.error ? ` (${j.error})` : ''}`).join(', ')}`,
      "read the agent's log for the job, fix the cause, and run the job by hand once to check",
    );
  }
  return result('jobs', 'OK', `${mine.length} scheduled job(s), none failed`);
}
