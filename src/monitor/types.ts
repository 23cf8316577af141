/** What the monitor finds out and reports: health checks with a state, a reason and a fix. */
import type { BackupSummary } from '../backup/index.js';
import type { WalCheckReport } from '../wal/index.js';
import type { ArchiverStats, SlotFacts } from '../pg/catalog.js';
import type { AgentState } from './agent-state.js';
import type { DrillRecord } from '../holdings/drill-records.js';

/** Nagios's states, in order of severity but for UNKNOWN (could not tell). */
export const CHECK_STATES = ['OK', 'WARN', 'CRITICAL', 'UNKNOWN'] as const;
export type CheckState = (typeof CHECK_STATES)[number];

export const CHECK_NAMES = [
  'archive',
  'wal_space',
  'replication_slots',
  'backup_age',
  'wal_continuity',
  'repository',
  'jobs',
  'drill',
  'drill_rto',
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export interface HealthCheck {
  check: CheckName;
  state: CheckState;
  /** What was found, in a sentence. */
  reason: string;
  /** The exact thing to do; null when nothing is to be done. */
  fix: string | null;
}

/** Everything gathered about one cluster in one round; the checks are pure functions of it. */
export interface ClusterFacts {
  cluster: string;
  at: Date;
  /** The server could not be reached (the server checks are then UNKNOWN). */
  serverError?: string;
  server?: {
    inRecovery: boolean;
    dataDirectory: string | null;
    archiveMode: string;
    archiveCommand: string;
    archiver: ArchiverStats;
    currentWalFile: string | null;
    segmentSize: number;
    slots: SlotFacts[];
  };
  /** `.ready` files in pg_wal/archive_status; undefined when the data directory is not readable here. */
  readyCount?: number;
  /** pg_wal's file system; undefined when not readable here. */
  walSpace?: { path: string; freeBytes: number; totalBytes: number };
  /** Why the data directory's checks could not run (not set, not readable...). */
  pgdataProblem?: string;
  repoError?: string;
  backups?: BackupSummary[];
  walCheck?: WalCheckReport;
  agent?: AgentState;
  /** The newest restore drill recorded in the repository (none: never drilled), and [drill] max_rto. */
  drill?: { newest?: DrillRecord; maxRtoMs?: number };
  /** pg_stat_archiver.failed_count of the previous round (the loop's memory; absent for one-shot status). */
  previousFailedCount?: number;
  /** The state file exists but cannot be read or parsed. */
  agentError?: string;
}

/** Segments and time the archive is behind the server. */
export interface ArchiveLag {
  /** Completed segments not archived yet (from the current segment, or the .ready count). */
  segments: number | null;
  /** Seconds since the last successful archive while segments wait (0 when caught up; null when unknown). */
  seconds: number | null;
  lastArchivedWal: string | null;
  lastArchivedTime: string | null;
  failedCount: number;
  lastFailedWal: string | null;
  lastFailedTime: string | null;
}

/** The status of one cluster: what `pgkeep status` shows and the metrics export. */
export interface ClusterStatus {
  cluster: string;
  at: string;
  /** The worst state of its checks (UNKNOWN counts below CRITICAL, above WARN). */
  state: CheckState;
  backups: {
    count: number;
    physical: number;
    newest: BackupSummary | null;
    /** Newest per kind (physical, logical). */
    newestByKind: Record<string, BackupSummary>;
  };
  /** The recoverable window: from the end of the oldest recoverable backup to the end of the continuous archive. */
  window: {
    oldest: { time: string; lsn: string; backup: string } | null;
    /** The newest recoverable LSN; time is when its segment was archived if the server says so (an upper bound). */
    newest: { lsn: string; segment: string; time: string | null } | null;
  };
  archive: ArchiveLag | null;
  walFree: { path: string; freeBytes: number; totalBytes: number } | null;
  streams: Record<string, { lagBytes?: number; lagSeconds?: number; state?: string }>;
  jobs: AgentState['jobs'];
  checks: HealthCheck[];
}
