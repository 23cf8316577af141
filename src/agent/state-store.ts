/**
 * The agent's state (state-types.ts), kept in memory and written to state.json after every
 * change: written to a temporary file, flushed, then renamed over the old one, so a reader (or a
 * crash) sees either the old or the new state, never half of one.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { PgkeepError } from '../errors.js';
import { STATE_VERSION, type AgentStateFile, type ClusterState, type JobState, type StreamState } from './state-types.js';

/** The state file as written, or undefined when there is none (first start) or it cannot be read. */
export function readStateFile(file: string): AgentStateFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PgkeepError('CONFIG', `cannot read the agent's state file ${file}: ${(e as NodeJS.ErrnoException).code}`, {
      hint: 'give the agent a state directory it can read and write ([agent] state_dir)',
    });
  }
  try {
    const s = JSON.parse(text) as AgentStateFile;
    return s.version === STATE_VERSION ? s : undefined;
  } catch {
    return undefined; // never half-written (atomic rename); a damaged file only loses the history
  }
}

export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

export class StateStore {
  readonly data: AgentStateFile;

  constructor(
    readonly file: string,
    meta: { configFile: string | null; repository: string },
    previous?: AgentStateFile,
  ) {
    const now = new Date().toISOString();
    this.data = {
      version: STATE_VERSION,
      agent: {
        pid: process.pid,
        host: hostname(),
        startedAt: now,
        configFile: meta.configFile,
        repository: meta.repository,
        updatedAt: now,
      },
      clusters: previous?.clusters ?? {},
    };
    for (const c of Object.values(this.data.clusters)) {
      for (const j of Object.values(c.jobs)) {
        j.running = null; // a run the previous agent left is over: it was killed with it
        j.nextRunAt = null;
      }
      if (c.stream) c.stream = { ...c.stream, status: 'stopped', pid: null, restartAt: null };
    }
  }

  cluster(name: string): ClusterState {
    return (this.data.clusters[name] ??= { jobs: {}, stream: null });
  }

  job(cluster: string, job: string): JobState | undefined {
    return this.data.clusters[cluster]?.jobs[job];
  }

  setJob(cluster: string, job: string, state: JobState): void {
    this.cluster(cluster).jobs[job] = state;
  }

  updateJob(cluster: string, job: string, change: Partial<JobState>): void {
    const j = this.job(cluster, job);
    if (j) Object.assign(j, change);
    this.save();
  }

  updateStream(cluster: string, change: Partial<StreamState>): void {
    const c = this.cluster(cluster);
    c.stream = { ...(c.stream ?? emptyStream()), ...change };
    this.save();
  }

  /**
   * Write state.json. A failure (disk full, read-only file system) does not stop the agent: the
   * state stays current in memory, the failure is reported once (onSaveError) and every later
   * change tries again; the first success after it is reported too.
   */
  save(): void {
    this.data.agent.updatedAt = new Date().toISOString();
    try {
      writeFileAtomic(this.file, JSON.stringify(this.data, null, 2) + '\n');
    } catch (e) {
      if (!this.failing) this.onSaveError?.(e as Error);
      this.failing = true;
      return;
    }
    if (this.failing) this.onSaveError?.(undefined);
    this.failing = false;
  }

  /** Called with the error when writing starts failing, and with undefined when it works again. */
  onSaveError?: (e: Error | undefined) => void;
  private failing = false;
}

export function emptyStream(): StreamState {
  return {
    status: 'starting',
    pid: null,
    startedAt: null,
    restarts: 0,
    restartAt: null,
    lastExit: null,
    receivedLsn: null,
    flushedLsn: null,
    serverLsn: null,
    lagBytes: null,
    lastProgressAt: null,
  };
}

/** The state of a job that has no record yet. */
export function newJobState(schedule: string, timezone: string | undefined): JobState {
  return {
    schedule,
    ...(timezone ? { timezone } : {}),
    nextRunAt: null,
    running: null,
    lastRun: null,
    lastFailure: null,
    lastTickAt: null,
    lastSkipAt: null,
    missed: null,
    scheduledSince: new Date().toISOString(),
  };
}
