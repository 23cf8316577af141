import type { LogLevel } from './log-level.js';

/** Settings of one `[cluster.NAME]` table (or of flags/environment for the selected cluster). */
export interface ClusterSettings {
  /** libpq connection string (URI or key=value); absent means "use PG* environment variables". */
  connection?: string;
  pgdata?: string;
  pgBin?: string;
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
  /** [restore] prefetch: segments restore_command keeps fetched ahead (0: off; default 8). */
  restore: { prefetch?: number };
  retention: RetentionSettings;
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
