/**
 * `pgkeep agent`: the long-lived service of one repository on one host. It takes the agent lock,
 * reports what was missed while it was down, runs the schedules and supervises `wal stream`,
 * reloads its configuration on request (SIGHUP), and stops cleanly when its signal fires.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import type { PgkeepConfig } from '../config/index.js';
import type { AgentLog } from './events.js';
import { agentPlan, type AgentPlan, type JobPlan } from './plan.js';
import { agentPaths, type AgentPaths } from '../config/agent-paths.js';
import { takeAgentLock, type AgentLock } from './lock.js';
import { readStateFile, StateStore } from './state-store.js';
import { childGlobalArgs } from './child.js';
import { JobRunner } from './job-runner.js';
import { Scheduler } from './scheduler.js';
import { StreamSupervisor } from './stream-supervisor.js';
import type { MonitorHandle, StartMonitor } from './monitor-hook.js';
import type { JobRun } from './state-types.js';

export type { AgentEvent, AgentLog } from './events.js';
export type { AgentStateFile } from './state-types.js';
export type { MonitorContext, MonitorHandle, StartMonitor } from './monitor-hook.js';
export { agentPaths, defaultStateDir } from '../config/agent-paths.js';
export { readStateFile } from './state-store.js';

export interface AgentOptions {
  config: PgkeepConfig;
  /** Reads the configuration again (on SIGHUP); throws a PgkeepError when the new one is bad. */
  loadConfig: () => PgkeepConfig;
  /** Calls `fn` on every reload request (SIGHUP); returns the unsubscribe. */
  onReloadRequest: (fn: () => void) => () => void;
  /** Fires to stop the agent (SIGTERM, SIGINT). */
  signal: AbortSignal;
  /** Run every configured job once now, one after the other, then exit (no streams). */
  once?: boolean;
  log: AgentLog;
  startMonitor?: StartMonitor;
}

export interface AgentResult {
  stateFile: string;
  /** --once: the runs, in order. */
  runs: JobRun[];
}

interface Parts {
  config: PgkeepConfig;
  plan: AgentPlan;
  paths: AgentPaths;
  lock: AgentLock;
  state: StateStore;
  runner: JobRunner;
}

export async function runAgent(opts: AgentOptions): Promise<AgentResult> {
  const parts = prepare(opts);
  try {
    if (opts.once) return { stateFile: parts.paths.stateFile, runs: await runOnce(parts, opts.signal) };
    await serve(parts, opts);
    return { stateFile: parts.paths.stateFile, runs: [] };
  } finally {
    parts.state.data.agent.stoppedAt = new Date().toISOString();
    parts.state.save();
    parts.lock.release();
  }
}

/** Check the configuration, take the lock, load the state the last agent left. */
function prepare(opts: AgentOptions): Parts {
  const { config, log } = opts;
  const plan = agentPlan(config);
  if (!config.repo.path) {
    throw new PgkeepError('CONFIG', 'the agent needs a repository: set [repo] path in the config file', { hint: 'or pass --repo' });
  }
  refuseMissingRepository(config.repo.path);
  const paths = agentPaths(config, config.repo.path);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const lock = takeAgentLock(paths.lockFile, paths.repository);
  if (lock.replaced) {
    log({
      level: 'warn',
      event: 'stale-lock',
      pid: lock.replaced.pid,
      message: `took over the lock of agent pid ${lock.replaced.pid} (started ${lock.replaced.startedAt}), which is no longer running`,
    });
  }
  const state = new StateStore(
    paths.stateFile,
    { configFile: config.file ?? null, repository: paths.repository },
    readStateFile(paths.stateFile),
  );
  state.onSaveError = (e) =>
    log(
      e
        ? {
            level: 'error',
            event: 'state-write-failed',
            file: paths.stateFile,
            message: `cannot write the state file ${paths.stateFile}: ${(e as NodeJS.ErrnoException).code ?? e.message}; jobs go on, the file is written again at the next change`,
          }
        : {
            level: 'info',
            event: 'state-write-recovered',
            file: paths.stateFile,
            message: `the state file ${paths.stateFile} is written again`,
          },
    );
  state.save();
  const globalArgs = (cluster: string) =>
    childGlobalArgs({
      configFile: config.file,
      repository: paths.repository,
      cluster,
      passphraseFile: config.passphrase.file,
    });
  return { config, plan, paths, lock, state, runner: new JobRunner({ state, log, globalArgs, jobTimeoutMs: plan.jobTimeoutMs }) };
}

/** A mistyped local repository path fails at start, not at the first job hours later. */
function refuseMissingRepository(path: string): void {
  if (/^s3:\/\//i.test(path) || existsSync(join(path, 'pgkeep.json'))) return;
  throw new PgkeepError('REPOSITORY', `${path} is not a pgkeep repository (no pgkeep.json)`, {
    hint: 'check [repo] path, or create the repository with "pgkeep repo init"',
  });
}

/** --once: a full backup rather than both kinds; backups first, then dumps, verify, drill, expire. */
async function runOnce(p: Parts, signal: AbortSignal): Promise<JobRun[]> {
  // SIGTERM/SIGINT interrupt the job in progress (within stop_timeout) and skip the rest.
  const stop = () => void p.runner.stop(p.plan.stopTimeoutMs);
  signal.addEventListener('abort', stop, { once: true });
  const order = ['backup_full', 'backup_incremental', 'dump', 'verify', 'drill', 'expire'];
  const jobs = [...p.plan.jobs]
    .filter((j) => !(j.kind === 'backup_incremental' && p.plan.jobs.some((o) => o.cluster === j.cluster && o.kind === 'backup_full')))
    .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  const runs: JobRun[] = [];
  try {
    for (const j of jobs) {
      if (signal.aborted) break;
      const run = await p.runner.run(j, 'once');
      if (run) runs.push(run);
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
  if (signal.aborted && !runs.some((r) => r.result !== 'ok')) throw signal.reason;
  return runs;
}

async function serve(p: Parts, opts: AgentOptions): Promise<void> {
  const { log } = opts;
  const scheduler = new Scheduler({ state: p.state, log, runner: p.runner });
  let streams: StreamSupervisor[] = [];
  let monitor: MonitorHandle | undefined;
  let reloading = Promise.resolve();
  let unsubscribe = () => {};
  // Whatever happens after the first child starts, the stop below runs: no job or receiver outlives the agent.
  try {
    streams = startStreams(p, p.plan, log);
    scheduler.start(p.plan.jobs, p.plan.catchUp);
    monitor = await startMonitor(p, opts);
    log({
      level: 'info',
      event: 'started',
      pid: process.pid,
      stateFile: p.paths.stateFile,
      repository: p.paths.repository,
      message:
        `agent started for repository ${p.paths.repository}: ${describe(p.plan.jobs)}` +
        `${p.plan.streams.length ? `; streaming ${p.plan.streams.map((s) => s.cluster).join(', ')}` : ''}`,
    });
    // Reloads run one after the other (two quick SIGHUPs must not start a receiver twice).
    unsubscribe = opts.onReloadRequest(() => {
      reloading = reloading
        .then(async () => {
          streams = await reload(p, opts, scheduler, streams, monitor);
        })
        .catch((e: unknown) => log({ level: 'error', event: 'reload-failed', message: `reload failed: ${(e as Error).message}` }));
    });
    await new Promise<void>((res) => (opts.signal.aborted ? res() : opts.signal.addEventListener('abort', () => res(), { once: true })));
  } finally {
    unsubscribe();
    await reloading;
    log({ level: 'info', event: 'stopping', message: `stopping: interrupting running jobs (bound ${p.plan.stopTimeoutMs / 1000} s)` });
    await Promise.resolve(monitor?.stop()).catch((e: unknown) =>
      log({ level: 'error', event: 'monitor-failed', message: `monitor stop failed: ${(e as Error).message}` }),
    );
    scheduler.stop();
    await Promise.all([p.runner.stop(p.plan.stopTimeoutMs), ...streams.map((s) => s.stop(p.plan.stopTimeoutMs))]);
    log({ level: 'info', event: 'stopped', message: 'agent stopped' });
  }
}

/** The monitor failing to start is reported; backups and streaming go on without it. */
async function startMonitor(p: Parts, opts: AgentOptions): Promise<MonitorHandle | undefined> {
  try {
    return await opts.startMonitor?.({ config: p.config, state: p.state.data, stateFile: p.paths.stateFile, log: opts.log });
  } catch (e) {
    opts.log({
      level: 'error',
      event: 'monitor-failed',
      message: `the monitor did not start: ${(e as Error).message}; jobs and streams run without it`,
    });
    return undefined;
  }
}

function startStreams(p: Parts, plan: AgentPlan, log: AgentLog): StreamSupervisor[] {
  const globalArgs = (cluster: string) =>
    childGlobalArgs({
      configFile: p.config.file,
      repository: p.paths.repository,
      cluster,
      passphraseFile: p.config.passphrase.file,
    });
  return plan.streams.map((s) => {
    const sup = new StreamSupervisor(s, { state: p.state, log, globalArgs, backoffMaxMs: plan.streamBackoffMaxMs });
    sup.start();
    return sup;
  });
}

/**
 * SIGHUP: read and check the configuration again; a bad one is reported and the old one kept.
 * The repository stays the one the lock covers (the CLI reloads with the same repository). Streams of clusters no longer configured (or
 * whose slot changed) stop, new ones start; unchanged ones keep running.
 */
async function reload(
  p: Parts,
  opts: AgentOptions,
  scheduler: Scheduler,
  streams: StreamSupervisor[],
  monitor?: MonitorHandle,
): Promise<StreamSupervisor[]> {
  const { log } = opts;
  let config: PgkeepConfig;
  let plan: AgentPlan;
  try {
    config = opts.loadConfig();
    plan = agentPlan(config);
  } catch (e) {
    const err = e instanceof PgkeepError ? e : new PgkeepError('CONFIG', (e as Error).message);
    log({
      level: 'error',
      event: 'reload-failed',
      code: err.code,
      hint: err.hint,
      message: `configuration not reloaded, the previous one stays in force: ${err.message}`,
    });
    return streams;
  }
  p.config = config;
  p.plan = plan;
  scheduler.reload(plan.jobs);
  const keep = streams.filter((s) => plan.streams.some((n) => n.cluster === s.plan.cluster && n.slot === s.plan.slot));
  await Promise.all(streams.filter((s) => !keep.includes(s)).map((s) => s.stop(plan.stopTimeoutMs)));
  const fresh = startStreams(p, { ...plan, streams: plan.streams.filter((n) => !keep.some((s) => s.plan.cluster === n.cluster)) }, log);
  await monitor?.reload(config);
  log({ level: 'info', event: 'reloaded', message: `configuration reloaded: ${describe(plan.jobs)}` });
  return [...keep, ...fresh];
}

function describe(jobs: JobPlan[]): string {
  return jobs.length ? jobs.map((j) => `${j.cluster}/${j.kind} "${j.schedule}"`).join(', ') : 'no scheduled jobs';
}
export { plannedRuns, type PlannedRun } from './planned-runs.js';
export { combineHooks } from './combine-hooks.js';
