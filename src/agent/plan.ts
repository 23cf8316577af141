/**
 * From the configuration to what the agent does: every [cluster.NAME.schedule] checked (cron
 * expressions parsed by croner, timezones known) and turned
 * into jobs and streams. A bad schedule is a CONFIG error naming the key and the file.
 */
import { Cron } from 'croner';
import { PgkeepError } from '../errors.js';
import type { PgkeepConfig, ScheduleSettings } from '../config/index.js';
import { JOB_KINDS, jobGroup, jobSteps, type JobKind } from './job-commands.js';

export interface JobPlan {
  cluster: string;
  kind: JobKind;
  schedule: string;
  timezone?: string;
  group: string;
  steps: string[][];
}

export interface StreamPlan {
  cluster: string;
  slot?: string;
}

export interface AgentPlan {
  jobs: JobPlan[];
  streams: StreamPlan[];
  stopTimeoutMs: number;
  catchUp: boolean;
  streamBackoffMaxMs: number;
  jobTimeoutMs: number;
}

export const DEFAULT_STOP_TIMEOUT_MS = 60_000;
/** Above this a stop could outlast the CLI's own bound for the agent (AGENT_GRACE_MS). */
export const MAX_STOP_TIMEOUT_MS = 600_000;
export const DEFAULT_STREAM_BACKOFF_MAX_MS = 60_000;
/** Longer than any backup pgkeep is expected to take; a DBA with a bigger cluster raises it. */
export const DEFAULT_JOB_TIMEOUT_MS = 24 * 3_600_000;
const BACKUP_METHODS = ['stream', 'local'];

function configError(file: string | undefined, key: string, message: string, hint: string): PgkeepError {
  return new PgkeepError('CONFIG', `${key} in ${file ?? 'the configuration'}: ${message}`, { hint, details: { file, key } });
}

export function checkTimezone(tz: string, key: string, file: string | undefined): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return tz;
  } catch {
    throw configError(file, key, `unknown timezone "${tz}"`, 'use an IANA name such as "UTC" or "Europe/Berlin"');
  }
}

/** croner's parse of one expression, or a CONFIG error naming the key. */
export function parseCron(expr: string, timezone: string | undefined, key: string, file?: string): Cron {
  try {
    return new Cron(expr, { timezone, paused: true });
  } catch (e) {
    throw configError(
      file,
      key,
      `invalid cron expression "${expr}" (${(e as Error).message})`,
      'use 5 fields (minute hour day month weekday), e.g. "0 2 * * 0", or 6 with seconds first',
    );
  }
}

function clusterJobs(cluster: string, s: ScheduleSettings, config: PgkeepConfig): JobPlan[] {
  const prefix = `cluster.${cluster}.schedule`;
  const method = s.backup_method ?? 'stream';
  if (!BACKUP_METHODS.includes(method)) {
    throw configError(
      config.file,
      `${prefix}.backup_method`,
      `"${method}" cannot be scheduled`,
      'use "stream" (over the replication protocol) or "local" (on the database host); a cold backup needs the server stopped',
    );
  }
  const timezone = s.timezone !== undefined ? checkTimezone(s.timezone, `${prefix}.timezone`, config.file) : config.agent?.timezone;
  const jobs: JobPlan[] = [];
  for (const kind of JOB_KINDS) {
    const expr = s[kind];
    if (expr === undefined) continue;
    parseCron(expr, timezone, `${prefix}.${kind}`, config.file).stop();
    jobs.push({ cluster, kind, schedule: expr, timezone, group: jobGroup(kind), steps: jobSteps(kind, { backupMethod: method }) });
  }
  return jobs;
}

export function agentPlan(config: PgkeepConfig): AgentPlan {
  const a = config.agent ?? {};
  if (a.timezone !== undefined) checkTimezone(a.timezone, 'agent.timezone', config.file);
  const stopTimeoutMs = a.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  if (stopTimeoutMs > MAX_STOP_TIMEOUT_MS) {
    throw configError(config.file, 'agent.stop_timeout', `${stopTimeoutMs / 1000} s is too long`, 'use at most 10m');
  }
  const jobs: JobPlan[] = [];
  const streams: StreamPlan[] = [];
  for (const [cluster, c] of Object.entries(config.clusters)) {
    if (!c.schedule) continue;
    jobs.push(...clusterJobs(cluster, c.schedule, config));
    if (c.schedule.stream) streams.push({ cluster, slot: c.schedule.stream_slot });
    else if (c.schedule.stream_slot !== undefined) {
      throw configError(
        config.file,
        `cluster.${cluster}.schedule.stream_slot`,
        'is set but stream is not',
        'add stream = true, or remove stream_slot',
      );
    }
  }
  if (!jobs.length && !streams.length) {
    throw new PgkeepError(
      'CONFIG',
      `nothing for the agent to do: no [cluster.NAME.schedule] in ${config.file ?? '(no config file found)'}`,
      {
        hint: 'add for example [cluster.main.schedule] with backup_incremental = "0 2 * * *" (docs/operations.md)',
      },
    );
  }
  return {
    jobs,
    streams,
    stopTimeoutMs,
    catchUp: a.catchUp ?? true,
    streamBackoffMaxMs: a.streamBackoffMaxMs ?? DEFAULT_STREAM_BACKOFF_MAX_MS,
    jobTimeoutMs: a.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS,
  };
}
