/**
 * The agent's schedule as the configuration plans it, with each job's next run: what a reader
 * (the dashboard) shows when no agent state tells when jobs really run. A bad schedule throws
 * the same CONFIG error the agent would.
 */
import type { PgkeepConfig } from '../config/index.js';
import { agentPlan, parseCron } from './plan.js';

export interface PlannedRun {
  cluster: string;
  job: string;
  schedule: string;
  timezone?: string;
  /** ISO time of the next run; null when the expression has none left. */
  nextRun: string | null;
}

export function plannedRuns(config: PgkeepConfig, now = new Date()): PlannedRun[] {
  if (!Object.values(config.clusters).some((c) => c.schedule)) return [];
  return agentPlan(config).jobs.map((j) => {
    const cron = parseCron(j.schedule, j.timezone, `cluster.${j.cluster}.schedule.${j.kind}`, config.file);
    const next = cron.nextRun(now);
    cron.stop();
    return { cluster: j.cluster, job: j.kind, schedule: j.schedule, timezone: j.timezone, nextRun: next ? next.toISOString() : null };
  });
}
