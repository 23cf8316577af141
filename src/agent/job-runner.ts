/**
 * Runs one job: its `pgkeep` commands one after the other as child processes, its run recorded
 * in the state file (running, then lastRun/lastFailure). A job never overlaps itself (nor a job of
 * its group: a full and an incremental backup of one cluster): a run asked for while one is in
 * progress is skipped and reported. The expire job (repo gc) and the others wait for each other
 * (repo-gate.ts). stop() interrupts the runs in progress (SIGTERM: they unwind
 * and publish nothing half-done), and kills what is still there after the bound.
 */
import type { AgentLog } from './events.js';
import type { JobPlan } from './plan.js';
import { newJobState, type StateStore } from './state-store.js';
import type { JobRun } from './state-types.js';
import { EXIT } from '../errors.js';
import { formatDuration } from '../config/duration.js';
import { settlesWithin } from './bounded-wait.js';
import { RepoGate } from './repo-gate.js';
import { spawnPgkeep, type ChildHandle, type ChildOutcome } from './child.js';

interface Running {
  job: JobPlan;
  startedAt: string;
  child: ChildHandle | null;
  done: Promise<JobRun>;
}

/** A child interrupted for its job_timeout gets this long to unwind before SIGKILL. */
const KILL_AFTER_MS = 30_000;
/** After SIGKILL, how long to wait for the killed children to be reaped. */
const REAP_MS = 5_000;

export class JobRunner {
  private readonly running = new Map<string, Running>();
  private stopping = false;
  private readonly gate = new RepoGate();
  private readonly stopSignal = new AbortController();

  constructor(
    private readonly deps: { state: StateStore; log: AgentLog; globalArgs: (cluster: string) => string[]; jobTimeoutMs: number },
  ) {}

  /** Start a run unless one of its group is in progress (then skip it, reported); resolves when it ends. */
  run(job: JobPlan, trigger: JobRun['trigger']): Promise<JobRun | undefined> {
    const { state, log } = this.deps;
    const key = `${job.cluster}/${job.group}`;
    const busy = this.running.get(key);
    if (this.stopping) return Promise.resolve(undefined);
    if (busy) {
      const now = new Date().toISOString();
      state.updateJob(job.cluster, job.kind, { lastSkipAt: now });
      log({
        level: 'warn',
        event: 'job-skipped',
        cluster: job.cluster,
        job: job.kind,
        message: `${job.kind} of cluster ${job.cluster} not started: ${busy.job.kind} is still running (since ${busy.startedAt})`,
        runningJob: busy.job.kind,
        runningSince: busy.startedAt,
      });
      return Promise.resolve(undefined);
    }
    const entry: Running = { job, startedAt: new Date().toISOString(), child: null, done: undefined as never };
    // Never rejects: a bug or an unexpected failure ends the run as failed (INTERNAL), reported, and the agent goes on.
    entry.done = this.execute(entry, trigger)
      .catch((e: unknown) => this.unexpected(entry, trigger, e))
      .finally(() => this.running.delete(key));
    this.running.set(key, entry);
    return entry.done;
  }

  private async execute(entry: Running, trigger: JobRun['trigger']): Promise<JobRun> {
    const { state, log, globalArgs } = this.deps;
    const { job, startedAt } = entry;
    if (!state.job(job.cluster, job.kind)) state.setJob(job.cluster, job.kind, newJobState(job.schedule, job.timezone));
    state.updateJob(job.cluster, job.kind, { running: { startedAt, pid: null } });
    log({
      level: 'info',
      event: 'job-start',
      cluster: job.cluster,
      job: job.kind,
      trigger,
      message: `${job.kind} of cluster ${job.cluster} started (${trigger})`,
    });
    let last: ChildOutcome = { exitCode: EXIT.OK, signal: null, message: 'done' };
    const release = await this.waitForRepository(job);
    if (!release)
      last = {
        exitCode: null,
        signal: null,
        errorCode: 'INTERRUPTED',
        message: 'the agent stopped while the job waited for the repository',
      };
    for (const step of release ? job.steps : []) {
      if (this.stopping) {
        last = { exitCode: null, signal: null, errorCode: 'INTERRUPTED', message: 'the agent stopped before this step' };
        break;
      }
      entry.child = spawnPgkeep([...globalArgs(job.cluster), ...step]);
      state.updateJob(job.cluster, job.kind, { running: { startedAt, pid: entry.child.pid } });
      const timedOut = await this.boundedByTimeout(entry.child, Date.parse(startedAt) + this.deps.jobTimeoutMs - Date.now());
      last = await entry.child.done;
      entry.child = null;
      if (timedOut) {
        last = {
          ...last,
          errorCode: last.errorCode ?? 'INTERRUPTED',
          message: `pgkeep ${step.join(' ')}: still running after [agent] job_timeout (${formatDuration(this.deps.jobTimeoutMs)}): interrupted (${last.message})`,
        };
        break;
      }
      if (last.exitCode !== EXIT.OK) {
        last = { ...last, message: `pgkeep ${step.join(' ')}: ${last.message}` };
        break;
      }
    }
    release?.();
    const result: JobRun['result'] =
      last.exitCode === EXIT.OK
        ? 'ok'
        : this.stopping && (last.signal !== null || last.errorCode === 'INTERRUPTED')
          ? 'interrupted'
          : 'failed';
    const run: JobRun = {
      startedAt,
      endedAt: new Date().toISOString(),
      result,
      exitCode: last.exitCode,
      ...(last.errorCode ? { errorCode: last.errorCode } : {}),
      message: last.message,
      trigger,
    };
    const prev = state.job(job.cluster, job.kind);
    state.updateJob(job.cluster, job.kind, {
      running: null,
      lastRun: run,
      lastFailure: result === 'ok' ? (prev?.lastFailure ?? null) : run,
    });
    log({
      level: result === 'ok' ? 'info' : result === 'interrupted' ? 'warn' : 'error',
      event: 'job-end',
      cluster: job.cluster,
      job: job.kind,
      result,
      exitCode: run.exitCode,
      errorCode: run.errorCode,
      seconds: (Date.parse(run.endedAt) - Date.parse(startedAt)) / 1000,
      message: `${job.kind} of cluster ${job.cluster} ${result === 'ok' ? 'succeeded' : result}: ${run.message}`,
    });
    return run;
  }

  private unexpected(entry: Running, trigger: JobRun['trigger'], e: unknown): JobRun {
    const { job, startedAt } = entry;
    const run: JobRun = {
      startedAt,
      endedAt: new Date().toISOString(),
      result: 'failed',
      exitCode: null,
      errorCode: 'INTERNAL',
      message: `the agent failed running this job: ${(e as Error)?.message ?? String(e)}`,
      trigger,
    };
    this.deps.state.updateJob(job.cluster, job.kind, { running: null, lastRun: run, lastFailure: run });
    this.deps.log({
      level: 'error',
      event: 'job-end',
      cluster: job.cluster,
      job: job.kind,
      result: 'failed',
      errorCode: 'INTERNAL',
      message: run.message,
    });
    return run;
  }

  /**
   * Wait for the child, at most `ms`: then SIGTERM (it unwinds, publishing nothing half-done) and,
   * should it still run after KILL_AFTER_MS more, SIGKILL. True when the bound was hit.
   */
  private async boundedByTimeout(child: ChildHandle, ms: number): Promise<boolean> {
    if (await settlesWithin(child.done, Math.max(0, ms))) return false;
    child.terminate();
    if (!(await settlesWithin(child.done, KILL_AFTER_MS))) child.kill();
    return true;
  }

  /** Wait for the repository gate (repo-gate.ts), reported when it makes the job wait; undefined when the agent stops first. */
  private async waitForRepository(job: JobPlan): Promise<(() => void) | undefined> {
    const kind = job.kind === 'expire' ? 'exclusive' : 'shared';
    if (this.gate.wouldWait(kind)) {
      this.deps.log({
        level: 'info',
        event: 'job-waiting',
        cluster: job.cluster,
        job: job.kind,
        message: `${job.kind} of cluster ${job.cluster} waits for ${kind === 'exclusive' ? 'the backups and dumps in progress to end (repo gc needs the repository alone)' : 'repo gc (expire job) to end'}`,
      });
    }
    try {
      return await this.gate.acquire(kind, this.stopSignal.signal);
    } catch {
      return undefined;
    }
  }

  /** Interrupt every run in progress and wait for them, at most `timeoutMs`; then kill what is left. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.stopSignal.abort();
    const runs = [...this.running.values()];
    if (!runs.length) return;
    for (const r of runs) r.child?.terminate();
    const all = Promise.all(runs.map((r) => r.done));
    if (await settlesWithin(all, timeoutMs)) return;
    for (const r of runs) {
      if (r.child) {
        this.deps.log({
          level: 'error',
          event: 'job-killed',
          cluster: r.job.cluster,
          job: r.job.kind,
          pid: r.child.pid,
          message: `${r.job.kind} of cluster ${r.job.cluster} did not stop within ${timeoutMs / 1000} s: killed (what it left is temporary and removed by "pgkeep repo gc")`,
        });
        r.child.kill();
      }
    }
    await settlesWithin(all, REAP_MS);
  }
}
