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

const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
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

/**
 * Parse the file's text (the agent's state.json: `clusters.<name>.jobs.<job>` and
 * `clusters.<name>.stream`, src/agent/state-types.ts) into what the checks and metrics read:
 * jobs keyed "<cluster>/<job>", streams keyed by cluster. Anything not of the expected shape is
 * left out.
 */
export function parseAgentState(text: string): AgentState {
  const doc = obj(JSON.parse(text));
  const jobs: Record<string, AgentJobState> = {};
  const streams: Record<string, AgentStreamState> = {};
  for (const [cluster, c] of Object.entries(obj(doc.clusters))) {
    for (const [name, j] of Object.entries(obj(obj(c).jobs))) jobs[`${cluster}/${name}`] = jobOf(cluster, name, obj(j));
    const st = obj(obj(c).stream);
    if (Object.keys(st).length)
      streams[cluster] = pick<AgentStreamState>({ cluster, state: st.status, lagBytes: st.lagBytes }, STREAM_FIELDS);
  }
  return { jobs, streams };
}

/** One job: its last run's end and result ("running" while one runs, "missed" when a missed time has not been caught up). */
function jobOf(cluster: string, name: string, j: Record<string, unknown>): AgentJobState {
  const last = obj(j.lastRun);
  const missed = obj(j.missed);
  const lastEnd = str(last.endedAt);
  const missedAt = str(missed.detectedAt);
  const result = j.running ? 'running' : missedAt && (!lastEnd || missedAt > lastEnd) ? 'missed' : str(last.result);
  const started = str(last.startedAt);
  const durationMs = started && lastEnd ? Date.parse(lastEnd) - Date.parse(started) : undefined;
  return pick<AgentJobState>(
    {
      lastRun: lastEnd,
      result,
      nextRun: j.nextRunAt,
      cluster,
      kind: name.startsWith('backup') ? 'backup' : name,
      error:
        result === 'failed' || result === 'interrupted'
          ? last.message
          : result === 'missed'
            ? `its run at ${str(missed.scheduledAt)} was missed`
            : undefined,
      durationMs,
    },
    JOB_FIELDS,
  );
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
