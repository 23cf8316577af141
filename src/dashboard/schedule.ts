/**
 * The schedule of one cluster: the agent's jobs as its state file tells them (last and next run,
 * result), else the jobs the configuration plans, with their next run.
 */
import type { PgkeepConfig } from '../config/index.js';
import type { ClusterStatus } from '../monitor/index.js';
import { plannedRuns } from '../agent/index.js';
import type { ScheduleRow } from './types.js';

export function scheduleOf(config: PgkeepConfig, status: ClusterStatus, now: Date): ScheduleRow[] {
  const fromAgent = Object.entries(status.jobs).map(([job, j]) => ({
    job,
    source: 'agent' as const,
    ...(j.nextRun ? { nextRun: j.nextRun } : {}),
    ...(j.lastRun ? { lastRun: j.lastRun } : {}),
    ...(j.result ? { result: j.result } : {}),
    ...(j.error ? { error: j.error } : {}),
  }));
  const planned = plannedRuns(config, now).filter((p) => p.cluster === status.cluster);
  if (!fromAgent.length) {
    return planned.map((p) => ({ job: p.job, schedule: p.schedule, source: 'config', ...(p.nextRun ? { nextRun: p.nextRun } : {}) }));
  }
  return fromAgent.map((r) => {
    const plan = planned.find((p) => p.job === r.job);
    return plan ? { ...r, schedule: plan.schedule } : r;
  });
}
