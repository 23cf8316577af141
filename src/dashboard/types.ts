/** What one page of the dashboard shows, gathered in one round (gather.ts) and rendered (page.ts). */
import type { BackupSummary } from '../backup/index.js';
import type { ClusterStatus } from '../monitor/index.js';
import type { RepoInfo } from '../repo/index.js';
import type { WalCheckReport } from '../wal/index.js';
import type { DamagedDrillRecord, DrillRecord } from '../holdings/index.js';

/** A run of archived segments without a gap, on one timeline, placed in time by when each was archived. */
export interface WalBand {
  timeline: number;
  first: string;
  last: string;
  segments: number;
  fromMs: number;
  toMs: number;
}

/** Missing segments (from `wal check`), placed between the archive times of their neighbours. */
export interface WalGapView {
  timeline: number;
  from: string;
  to: string;
  count: number;
  fromMs: number;
  toMs: number;
}

export interface BackupMark {
  id: string;
  method: string;
  startMs: number;
  stopMs: number;
  /** From `wal check`: ok, gap, unrecoverable, self-contained; "unknown" when it could not run. */
  walStatus: string;
  message?: string;
}

/** The recoverable window on a time axis. */
export interface TimelineModel {
  fromMs: number;
  toMs: number;
  nowMs: number;
  backups: BackupMark[];
  bands: WalBand[];
  gaps: WalGapView[];
  oldest: { ms: number; backup: string } | null;
  /** The newest recoverable moment; `bound`: the time is an upper bound (when its last segment was archived). */
  newest: { ms: number; lsn: string; segment: string; bound: boolean } | null;
}

export interface ScheduleRow {
  job: string;
  schedule?: string;
  nextRun?: string;
  lastRun?: string;
  result?: string;
  error?: string;
  /** "agent" when the agent's state says so, "config" when planned from the configuration only. */
  source: 'agent' | 'config';
}

export interface ClusterView {
  cluster: string;
  status: ClusterStatus;
  /** Every snapshot (physical and logical), oldest first. */
  backups: BackupSummary[];
  walCheck?: WalCheckReport;
  repoError?: string;
  serverError?: string;
  timeline: TimelineModel;
  drills: { records: DrillRecord[]; damaged: DamagedDrillRecord[]; error?: string };
  schedule: ScheduleRow[];
  scheduleError?: string;
}

export interface DashboardData {
  generatedAt: string;
  repository: { location: string; info?: RepoInfo; error?: string };
  clusters: ClusterView[];
}
