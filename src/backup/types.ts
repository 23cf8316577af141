/** Options, progress events and results of a physical backup (shared by the steps and sources). */
import type { CheckpointMode } from '../config/checkpoint-mode.js';
import type { ClusterSettings } from '../config/types.js';
import type { Repository, SnapshotManifest, SnapshotWriter } from '../repo/index.js';
import type { ExternalConfig, PhysicalBackupMeta, TablespaceInfo } from '../holdings/physical-meta.js';

export type BackupMethod = PhysicalBackupMeta['method'];
export const BACKUP_METHODS: readonly BackupMethod[] = ['stream', 'local', 'cold'];

export interface BackupOptions {
  repo: Repository;
  /** Cluster name in the repository. */
  clusterName: string;
  /** Connection settings and pgdata/pgBin of the cluster. */
  cluster: ClusterSettings;
  /** Default 'stream'. */
  method?: BackupMethod;
  /** Store the WAL from backup start to end with the backup (hot methods). */
  standalone?: boolean;
  /** backup_label's LABEL (default "pgkeep <time>"). */
  label?: string;
  /**
   * postgresql-common's configuration root (default /etc/postgresql): a cold backup of a Debian
   * cluster's data directory stores the configuration found there.
   */
  debianConfigRoot?: string;
  /** Parallel readers (local/cold) and compression workers (default: the repository's). */
  jobs?: number;
  /** Read every file even when its size and mtime did not change since the previous backup. */
  checksumAll?: boolean;
  /**
   * Local backups on PostgreSQL 17+: skip what the server's WAL summaries show unchanged since the
   * previous backup (default true; false reads every file as on older versions).
   */
  walSummaries?: boolean;
  /** Report page checksum failures as warnings instead of failing the backup. */
  ignoreChecksumErrors?: boolean;
  /** Longest wait for the server to archive the backup's last WAL segment (default 60 s; archive-watch.ts). */
  archiveTimeoutMs?: number;
  /** The checkpoint a hot backup starts from: 'fast' (immediate, the default) or 'spread' (config/checkpoint-mode.ts). */
  checkpoint?: CheckpointMode;
  signal?: AbortSignal;
  onProgress?: (p: BackupProgress) => void;
  /** Things worth telling the user that do not fail the backup. */
  onWarning?: (message: string) => void;
  /** What the backup decided on the way (e.g. which files it read): for a log. */
  onNote?: (message: string) => void;
}

export type BackupPhase = 'connecting' | 'starting' | 'copying' | 'stopping' | 'wal' | 'verifying' | 'publishing';

export interface BackupProgress {
  phase: BackupPhase;
  bytesDone: number;
  /** Known for local/cold; the server's estimate for stream. */
  bytesTotal?: number;
  filesDone: number;
  filesTotal?: number;
}

export interface ChecksumFailure {
  /** Path relative to the data directory. */
  path: string;
  /** Block number in the relation (as PostgreSQL counts it, across segment files). */
  block: number;
  /** Block number inside this segment file. */
  blockInFile: number;
  expected: number;
  found: number;
}

export interface BackupResult {
  snapshotId: string;
  cluster: string;
  method: BackupMethod;
  standalone: boolean;
  label: string;
  systemIdentifier: string;
  serverVersion: string;
  timeline: number;
  startLsn: string;
  stopLsn: string;
  walStart: string;
  walEnd: string;
  startTime: string;
  stopTime: string;
  /** Files, directories and symlinks in the snapshot. */
  files: number;
  /** Sum of file sizes. */
  logicalBytes: number;
  /** New bytes written to the repository (compressed, encrypted). */
  storedBytes: number;
  /** Bytes taken over from the previous backup without storing them again. */
  reusedBytes: number;
  /** Files reused whole without reading them (same size and mtime, or unchanged per the WAL summaries). */
  reusedFiles: number;
  /** Bytes read from data files (local, cold). */
  bytesRead?: number;
  /** Local backups: whether the WAL summaries decided what to read, and if not, why. */
  incrementalRead?: IncrementalRead;
  newChunks: number;
  reusedChunks: number;
  incrementalFrom?: string;
  /** WAL segments stored with a standalone backup. */
  walSegments: number;
  /** Pages whose checksum was verified (local, cold). */
  pagesChecked: number;
  checksumFailures: ChecksumFailure[];
  /** Files compared with the server's backup_manifest (stream). */
  manifestFilesChecked?: number;
  /** Files that disappeared or shrank while being read (normal on a running server). */
  vanishedFiles: number;
  seconds: number;
  /** Logical bytes per second. */
  bytesPerSecond: number;
  warnings: string[];
}

/** How a local backup chose what to read: from the server's WAL summaries (17+), or every file. */
export type IncrementalRead =
  | { method: 'wal-summaries'; from: string; to: string; files: number; skippedFiles: number; patchedFiles: number }
  | { method: 'full-read'; reason: string };

/** What the server (or pg_controldata) says about the cluster before the backup starts. */
export interface ServerFacts {
  systemIdentifier: string;
  serverVersion: string;
  serverVersionNum: number;
  walSegmentSize: number;
  dataChecksums: boolean;
  blockSize: number;
  /** The data directory to read (local, cold). */
  pgdata?: string;
  /** The server's data_directory, when known (stream: when the role may read it). */
  dataDirectory?: string;
  tablespaces: TablespaceInfo[];
}

export interface StartInfo {
  startLsn: bigint;
  timeline: number;
  startTime: Date;
  /** Tablespaces learnt only when the backup starts (stream). */
  tablespaces?: TablespaceInfo[];
}

export interface StopInfo {
  stopLsn: bigint;
  timeline: number;
  stopTime: Date;
  backupLabel?: string;
  tablespaceMap?: string;
}

/** Counters of the copy step. */
export interface CopyReport {
  files: number;
  bytes: number;
  /** Bytes actually read from data files (local, cold). */
  bytesRead?: number;
  reusedFiles: number;
  /** Files reused whole because the WAL summaries show no change (local, 17+). */
  skippedBySummaries?: number;
  /** Files of which only the chunks with changed blocks were read (local, 17+). */
  patchedBySummaries?: number;
  incrementalRead?: IncrementalRead;
  vanished: string[];
  pagesChecked: number;
  checksumFailures: ChecksumFailure[];
  /** Stream: files checked against the server's backup_manifest. */
  manifestFilesChecked?: number;
  tablespaces?: TablespaceInfo[];
}

/** Shared state a source needs while it runs. */
export interface BackupRun {
  options: BackupOptions;
  writer: SnapshotWriter;
  /** The snapshot this backup is incremental to. */
  previous?: SnapshotManifest;
  jobs: number;
  progress(p: Partial<BackupProgress> & { phase: BackupPhase }): void;
  warn(message: string): void;
}

/**
 * A backup method. The orchestrator (index.ts) calls these in order: identify, start, copy, stop,
 * storeWal (standalone), then close (always).
 */
export interface BackupSource {
  readonly method: BackupMethod;
  identify(): Promise<ServerFacts>;
  start(run: BackupRun, label: string): Promise<StartInfo>;
  /** Build the file list (local, cold) and store every file; stream stores what the server sends. */
  copy(run: BackupRun): Promise<CopyReport>;
  stop(run: BackupRun): Promise<StopInfo>;
  /**
   * The configuration files outside the data directory (Debian's /etc/postgresql/...), read
   * before the backup starts; undefined when there are none (or the method cannot know: cold).
   */
  externalConfig(run: BackupRun): Promise<ExternalConfig | undefined>;
  /** Store the WAL start..stop under pg_wal/ (standalone); returns the number of segments. */
  storeWal(run: BackupRun, start: StartInfo, stop: StopInfo): Promise<number>;
  close(): Promise<void>;
}
