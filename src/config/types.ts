import type { LogLevel } from './log-level.js';
import type { CheckpointMode } from './checkpoint-mode.js';
import type { MonitorSettings, NotifySettings } from './monitor.js';
import type { DrillSettings } from './drill.js';
import type { DashboardSettings } from './dashboard.js';
import type { Codec } from '../repo/codec.js';

/** Settings of one `[cluster.NAME]` table (or of flags/environment for the selected cluster). */
export interface ClusterSettings {
  /** libpq connection string (URI or key=value); absent means "use PG* environment variables". */
  connection?: string;
  pgdata?: string;
  pgBin?: string;
  /** [cluster.NAME.schedule]: what `pgkeep agent` runs, as the file spells it (validated by src/agent/). */
  schedule?: ScheduleSettings;
}

/** [cluster.NAME.schedule] keys, as written in the file. */
export interface ScheduleSettings {
  backup_full?: string;
  backup_incremental?: string;
  backup_method?: string;
  dump?: string;
  expire?: string;
  verify?: string;
  drill?: string;
  timezone?: string;
  stream?: boolean;
  stream_slot?: string;
}

/** [agent]: the long-lived service (docs/operations.md). */
export interface AgentSettings {
  stateDir?: string;
  timezone?: string;
  stopTimeoutMs?: number;
  catchUp?: boolean;
  streamBackoffMaxMs?: number;
  jobTimeoutMs?: number;
}

export interface RepoSettings {
  /** Local directory or s3://bucket/prefix. */
  path?: string;
  compression?: string;
  chunkSize?: string;
  passphraseFile?: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3PathStyle?: boolean;
  /** Bound of one S3 request, retries included, in ms ([repo] s3_timeout / PGKEEP_S3_TIMEOUT). */
  s3TimeoutMs?: number;
  /** Fires on SIGINT/SIGTERM: storage requests in flight are abandoned (set by the CLI). */
  signal?: AbortSignal;
}

export interface BackupSettings {
  /** Longest wait for the backup's WAL to be archived, in ms ([backup] archive_timeout / PGKEEP_ARCHIVE_TIMEOUT). */
  archiveTimeoutMs?: number;
  /** The checkpoint a hot backup starts from ([backup] checkpoint; default fast). */
  checkpoint?: CheckpointMode;
}

/** `[archive]`: how `wal push` (archive_command) stores WAL. */
export interface ArchiveSettings {
  /** Push through the background pusher (PGKEEP_ARCHIVE_ASYNC). */
  async: boolean;
  /** The codec pushed WAL is stored with; unset: the repository's, zstd at level 1 (wal/push.ts). */
  compression?: Codec;
  pushJobs: number;
  queueAlertSegments: number;
  spoolPath?: string;
}

export interface RetentionSettings {
  keepLast?: number;
  keepDays?: number;
}

/** The resolved configuration: flags win over environment, environment over the file. */
export interface PgkeepConfig {
  /** The config file that was read, if any. */
  file?: string;
  clusterName: string;
  cluster: ClusterSettings;
  /** Every cluster named in the file. */
  clusters: Record<string, ClusterSettings>;
  repo: RepoSettings;
  backup: BackupSettings;
  archive: ArchiveSettings;
  /** [restore] prefetch: segments restore_command keeps fetched ahead (0: off; default 8). */
  restore: { prefetch?: number };
  retention: RetentionSettings;
  /** [monitor]: health-check thresholds; [notify]: where alerts go. */
  monitor: MonitorSettings;
  notify: NotifySettings;
  /** [drill]: pgkeep drill's defaults and the monitor's RTO limit (absent where a config is built by hand). */
  drill?: DrillSettings;
  /** [dashboard]; absent where a config is built by hand (tests). */
  dashboard?: DashboardSettings;
  /** [agent]; absent where a config is built by hand (tests). */
  agent?: AgentSettings;
  logLevel: LogLevel;
  json: boolean;
  /** Where the passphrase comes from; the passphrase itself is read only when needed. */
  passphrase: { fromEnv: boolean; file?: string };
}

/** Global flags as commander hands them over (undefined when not given). */
export interface GlobalFlags {
  config?: string;
  cluster?: string;
  repo?: string;
  pgdata?: string;
  json?: boolean;
  logLevel?: string;
  passphraseFile?: string;
  connection?: string;
}
