/**
 * The shape of the agent's state file (state.json under its state directory; docs/operations.md).
 * Other parts (the monitor, `pgkeep status`) read it: change it only by adding fields, and bump
 * `version` on anything else. Times are ISO 8601 strings.
 */
export const STATE_VERSION = 1;

export type JobResult = 'ok' | 'failed' | 'interrupted';

/** One finished run of a job. */
export interface JobRun {
  startedAt: string;
  endedAt: string;
  result: JobResult;
  /** The child's exit code (docs/exit-codes.md); null when it was ended by a signal. */
  exitCode: number | null;
  /** The error code of a failed run (CONNECTION, LOCKED...), from the child's JSON error. */
  errorCode?: string;
  /** One line: the child's error message, or what it produced (e.g. the snapshot id). */
  message: string;
  /** "schedule" (its cron time came), "catch-up" (run at start for a missed time) or "once" (--once). */
  trigger: 'schedule' | 'catch-up' | 'once';
}

export interface JobState {
  /** The cron expression and its timezone (absent: the host's). */
  schedule: string;
  timezone?: string;
  /** The next time it is due, while the agent runs; null when the agent is stopped. */
  nextRunAt: string | null;
  /** Set while a run is in progress. */
  running: { startedAt: string; pid: number | null } | null;
  lastRun: JobRun | null;
  /** The last failed run (kept when later runs succeed). */
  lastFailure: JobRun | null;
  /** The last time its cron time came (whether it ran or was skipped): the base of missed-run detection. */
  lastTickAt: string | null;
  /** The last tick that was skipped because the job (or its group) was still running. */
  lastSkipAt: string | null;
  /** The last scheduled time that passed while no agent ran, and when it was noticed. */
  missed: { scheduledAt: string; detectedAt: string } | null;
  /** Since when this schedule is in force (a changed expression starts anew). */
  scheduledSince: string;
}

export type StreamStatus = 'starting' | 'running' | 'waiting' | 'stopped';

export interface StreamState {
  status: StreamStatus;
  /** The `pgkeep wal stream` child's pid while it runs. */
  pid: number | null;
  startedAt: string | null;
  /** How many times it was restarted since the agent started. */
  restarts: number;
  /** When the next restart is due (status "waiting"). */
  restartAt: string | null;
  lastExit: { at: string; exitCode: number | null; signal: string | null; errorCode?: string; message: string } | null;
  /** From the receiver's last progress report (every 5 s). LSNs as text (0/3000060). */
  receivedLsn: string | null;
  flushedLsn: string | null;
  serverLsn: string | null;
  /** Bytes between the server's position and what is stored in the repository. */
  lagBytes: number | null;
  lastProgressAt: string | null;
}

export interface ClusterState {
  jobs: Record<string, JobState>;
  stream: StreamState | null;
}

export interface AgentStateFile {
  version: number;
  agent: {
    pid: number;
    host: string;
    startedAt: string;
    /** Set at a clean stop; absent while it runs (or after a crash). */
    stoppedAt?: string;
    configFile: string | null;
    repository: string;
    updatedAt: string;
  };
  clusters: Record<string, ClusterState>;
}
