/**
 * The agent's state file, read by `status` and the metrics: its jobs (last run, result, next run)
 * and its `wal stream` supervisors. The agent writes it (its docs give the full shape); this reader
 * takes only what it needs and tolerates the file missing (no agent) or half-known fields.
 */
import { readFileSync } from 'node:fs';

export interface AgentJobState {
  lastRun?: string;
  /** "ok", "failed", "missed", "running"... as the agent writes it. */
  result?: string;
  nextRun?: string;
  /** What went wrong, when it failed. */
  error?: string;
  /** Kind of job (backup, dump, expire...) and the cluster it is for, when the agent says. */
  kind?: string;
  cluster?: string;
  durationMs?: number;
}

export interface AgentStreamState {
  cluster?: string;
  state?: string;
  lagBytes?: number;
  lagSeconds?: number;
}

export interface AgentState {
  jobs: Record<string, AgentJobState>;
  streams: Record<string, AgentStreamState>;
  /** When the file was last written (its mtime). */
  writtenAt?: string;
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : {});
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function pick<T>(from: Record<string, unknown>, fields: Record<string, (v: unknown) => unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [k, read] of Object.entries(fields)) {
    const v = read(from[k]);
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}

const JOB_FIELDS = { lastRun: str, result: str, nextRun: str, error: str, kind: str, cluster: str, durationMs: num };
const STREAM_FIELDS = { cluster: str, state: str, lagBytes: num, lagSeconds: num };

/** Parse the file's text; anything not of the expected shape is left out. */
export function parseAgentState(text: string): AgentState {
  const doc = obj(JSON.parse(text));
  const jobs = Object.fromEntries(Object.entries(obj(doc.jobs)).map(([k, v]) => [k, pick<AgentJobState>(obj(v), JOB_FIELDS)]));
  const streams = Object.fromEntries(Object.entries(obj(doc.streams)).map(([k, v]) => [k, pick<AgentStreamState>(obj(v), STREAM_FIELDS)]));
  return { jobs, streams };
}

/** The state, or undefined when there is no file (no agent); an unreadable or malformed file is an error. */
export function readAgentState(file: string | undefined): AgentState | undefined {
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseAgentState(text);
}
