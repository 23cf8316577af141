/**
 * The schedules: one croner job per configured (cluster, job). At its time a job runs through the
 * JobRunner (which skips it, reported, while it still runs). At start, a time that passed while
 * no agent ran (from the state file: the job's last run or tick) is reported as "job-missed" and,
 * with [agent] catch_up (the default), run once at once. reload() replaces the schedules; runs in
 * progress go on.
 */
import { Cron } from 'croner';
import type { AgentLog } from './events.js';
import type { JobRunner } from './job-runner.js';
import { parseCron, type JobPlan } from './plan.js';
import { newJobState, type StateStore } from './state-store.js';
import type { JobState } from './state-types.js';

/** A run counts as missed when its time passed this long before the agent started. */
const MISSED_TOLERANCE_MS = 1_000;
/** Counting missed times stops here ("1000 or more"). */
const MAX_MISSED_COUNT = 1_000;

export class Scheduler {
  private crons: Cron[] = [];

  constructor(private readonly deps: { state: StateStore; log: AgentLog; runner: JobRunner }) {}

  /** Schedule `jobs`; report what was missed since the last agent (and run it once when `catchUp`). */
  start(jobs: JobPlan[], catchUp: boolean): void {
    const startedAt = Date.now();
    const missed = jobs.filter((j) => this.checkMissed(j, startedAt));
    this.schedule(jobs);
    if (catchUp) for (const j of missed) void this.deps.runner.run(j, 'catch-up');
  }

  reload(jobs: JobPlan[]): void {
    this.stop();
    this.schedule(jobs);
  }

  stop(): void {
    for (const c of this.crons) c.stop();
    this.crons = [];
    for (const c of Object.values(this.deps.state.data.clusters)) for (const j of Object.values(c.jobs)) j.nextRunAt = null;
  }

  private schedule(jobs: JobPlan[]): void {
    const { state } = this.deps;
    // Jobs no longer configured leave the state (unless running: the runner records their end).
    for (const [name, c] of Object.entries(state.data.clusters)) {
      for (const [kind, j] of Object.entries(c.jobs)) {
        if (!j.running && !jobs.some((p) => p.cluster === name && p.kind === kind)) delete c.jobs[kind];
      }
    }
    for (const job of jobs) {
      const prev = state.job(job.cluster, job.kind);
      const same = prev && prev.schedule === job.schedule && prev.timezone === job.timezone;
      const cron: Cron = new Cron(job.schedule, { timezone: job.timezone }, (): void => this.tick(job, cron));
      this.crons.push(cron);
      const js: JobState = {
        ...newJobState(job.schedule, job.timezone),
        nextRunAt: cron.nextRun()?.toISOString() ?? null,
        running: prev?.running ?? null,
        lastRun: prev?.lastRun ?? null,
        lastFailure: prev?.lastFailure ?? null,
        lastTickAt: same ? prev.lastTickAt : null,
        lastSkipAt: prev?.lastSkipAt ?? null,
        missed: prev?.missed ?? null,
        ...(same ? { scheduledSince: prev.scheduledSince } : {}),
      };
      state.setJob(job.cluster, job.kind, js);
    }
    state.save();
  }

  private tick(job: JobPlan, cron: Cron): void {
    this.deps.state.updateJob(job.cluster, job.kind, {
      lastTickAt: new Date().toISOString(),
      nextRunAt: cron.nextRun()?.toISOString() ?? null,
    });
    void this.deps.runner.run(job, 'schedule').then(() => {
      // The next time may have moved on while the run went (a long backup): keep it current.
      if (this.crons.includes(cron)) this.deps.state.updateJob(job.cluster, job.kind, { nextRunAt: cron.nextRun()?.toISOString() ?? null });
    });
  }

  /** Did a time of this job pass while no agent ran? Reported and recorded; true when it did. */
  private checkMissed(job: JobPlan, now: number): boolean {
    const prev = this.deps.state.job(job.cluster, job.kind);
    if (!prev || prev.schedule !== job.schedule || prev.timezone !== job.timezone) return false;
    const since = Math.max(...[prev.lastRun?.startedAt, prev.lastTickAt, prev.scheduledSince].map((t) => (t ? Date.parse(t) : 0)));
    const cron = parseCron(job.schedule, job.timezone, `cluster.${job.cluster}.schedule.${job.kind}`);
    let first: Date | null = null;
    let count = 0;
    for (
      let t = cron.nextRun(new Date(since));
      t && t.getTime() < now - MISSED_TOLERANCE_MS && count < MAX_MISSED_COUNT;
      t = cron.nextRun(t)
    ) {
      first ??= t;
      count++;
    }
    cron.stop();
    if (!first) return false;
    const missed = { scheduledAt: first.toISOString(), detectedAt: new Date(now).toISOString() };
    this.deps.state.updateJob(job.cluster, job.kind, { missed });
    this.deps.log({
      level: 'warn',
      event: 'job-missed',
      cluster: job.cluster,
      job: job.kind,
      scheduledAt: missed.scheduledAt,
      count,
      message:
        `${job.kind} of cluster ${job.cluster} missed ${count >= MAX_MISSED_COUNT ? `${count} or more runs` : `${count} run(s)`} ` +
        `while no agent ran (first due ${missed.scheduledAt})`,
    });
    return true;
  }
}
