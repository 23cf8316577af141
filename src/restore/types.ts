/**
 * The physical restore's inputs, progress events and result. A use case never prints: the CLI
 * renders these.
 */
import type { Repository } from '../repo/index.js';
import type { LocalCluster } from '../pg/local-cluster.js';
import type { RecoveryRequest } from './recovery-config.js';
import type { PitrPlan, PitrRequest, RecoveryEnd, WalUsed } from './pitr/types.js';
import type { ArchiveModeOption } from './archive-mode.js';
import type { HbaReport } from '../pg/restored-hba.js';
import type { RestoredArchiving } from './archive-mode.js';
import type { PlacedConfigFile } from './external-config.js';

export interface TablespaceMapping {
  /** Original location (as recorded in the snapshot) or the tablespace OID. */
  from: string;
  /** New absolute location. */
  to: string;
}

/** How the restored cluster's restore_command reaches the repository (no secrets in here). */
export interface RepositoryAccess {
  /** Repository location as given (directory or s3://...); made absolute when local. */
  repo: string;
  /** Cluster name in the repository. */
  cluster: string;
  /** Passphrase file the server's restore_command may read (never the passphrase). */
  passphraseFile?: string;
  /** Passphrase given through PGKEEP_PASSPHRASE (cannot reach the server): a warning is returned. */
  passphraseFromEnv?: boolean;
  /** Config file the command was run with (S3 settings etc.), passed on as --config. */
  configFile?: string;
  /** Segments restore_command keeps fetched ahead (`wal get --prefetch N`); 0 turns it off (default 8). */
  prefetch?: number;
}

export interface RestoreOptions {
  repo: Repository;
  /** Cluster name in the repository. */
  cluster: string;
  /**
   * Snapshot id, or "latest" (the default). "latest" is the newest physical backup; when it
   * recovers from the archive, the newest backup on the history of the timeline recovery
   * follows (with a target: that ended before it).
   */
  id?: string;
  /** Target data directory. */
  to: string;
  /** Parallel file writers (default: the repository's jobs). */
  jobs?: number;
  /** Restore over an existing directory, rewriting only what differs. */
  delta?: boolean;
  tablespaceMap?: TablespaceMapping[];
  /** Repository access for restore_command (recovery from the WAL archive). */
  access: RepositoryAccess;
  /**
   * With a prefetching restore_command from this repository: start its prefetcher once the files
   * are written, so the spool holds the first segments when the server starts (`pgkeep restore`).
   */
  startPrefetch?: boolean;
  /** Recovery settings beyond the default. */
  recovery?: RecoveryRequest;
  /** Point-in-time recovery: target, action, timeline (src/restore/pitr/). */
  pitr?: PitrRequest;
  /** "off": archive_mode = off in postgresql.auto.conf, so the copy never archives (default "preserve"). */
  archiveMode?: ArchiveModeOption;
  /**
   * Where the backup's configuration files that lived outside the data directory go (default
   * `<to>.config`); see external-config.ts.
   */
  configTo?: string;
  /** Replace files of the config directory that exist with other content (default: refuse). */
  overwriteConfig?: boolean;
  /** postgresql-common's configuration root, to recognise a Debian cluster's data directory (default /etc/postgresql). */
  debianConfigRoot?: string;
  /** Start the restored cluster and wait until it accepts connections. */
  start?: boolean;
  /** Directory of the server binaries for --start (the cluster's pg_bin; default: PGKEEP_PG_BIN or the search of pg/bin.ts). */
  pgBin?: string;
  /** TCP port for --start (default: a free one). */
  port?: number;
  /**
   * listen_addresses for --start (default "": no TCP, the unix socket in a private directory
   * only). With TCP, host connections use password authentication (scram-sha-256).
   */
  listen?: string;
  /** Leave the started server running after this process exits (the CLI does). */
  detach?: boolean;
  /** Called with the started cluster (tests stop it; the CLI detaches it). */
  onStarted?: (cluster: LocalCluster) => void;
  /** fsync files and directories (default true). */
  sync?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: RestoreProgress) => void;
}

export type RestoreStep =
  | 'resolve'
  | 'check-target'
  | 'plan'
  | 'keep-wal'
  | 'begin'
  | 'tablespaces'
  | 'write-files'
  | 'remove-strays'
  | 'recovery-config'
  | 'finish'
  | 'start';

export interface RestoreProgress {
  step: RestoreStep;
  filesDone: number;
  filesTotal: number;
  /** Bytes of the snapshot's files processed (written or verified unchanged). */
  bytesDone: number;
  bytesTotal: number;
  /** Bytes actually written to disk. */
  bytesWritten: number;
  /** Current file (write-files). */
  file?: string;
}

export interface RestoreStats {
  /** Entries in the snapshot (files, directories, symlinks). */
  entries: number;
  /** Regular files in the snapshot and their total size. */
  files: number;
  bytes: number;
  /** Files created or changed on disk. */
  filesWritten: number;
  /** Files found already identical (delta). */
  filesUnchanged: number;
  /** Chunks written (all of them in a fresh restore; only differing ones with --delta). */
  chunksWritten: number;
  /** Chunks compared and found identical (delta). */
  chunksUnchanged: number;
  bytesWritten: number;
  /** Entries removed because the snapshot does not have them (delta). */
  filesRemoved: number;
  directoriesCreated: number;
  symlinksCreated: number;
}

export interface StartedInfo {
  dataDir: string;
  port: number;
  /** The unix socket's directory: 0700, owned by the server's OS user. */
  socketDir: string;
  /** listen_addresses: "" (the default) = no TCP at all, the socket only. */
  listen: string;
  /** What pgkeep did to pg_hba.conf: written (the backup had none), hardened (host trust -> scram-sha-256) or kept. */
  hba: HbaReport;
  /** With TCP: a libpq string over TCP (password authentication). */
  tcpConnection?: string;
  logFile: string;
  /** libpq connection string (add user=...). */
  connection: string;
  /** Command to stop the server. */
  stopCommand: string;
}

export interface RestoredTablespace {
  oid: string;
  /** Location recorded in the snapshot. */
  from: string;
  /** Where it was restored. */
  to: string;
}

/** --delta over a data directory whose pg_wal held WAL the archive lacks (keep-wal.ts). */
export interface UnarchivedWal {
  files: {
    name: string;
    /** "missing": not in the archive; "different": archived with other content. */
    archive: 'missing' | 'different';
    /** Left in pg_wal, where archive recovery replays it (else only in savedTo). */
    keptInPgWal: boolean;
  }[];
  /** Directory beside the data directory holding a copy of each file. */
  savedTo: string;
}

export interface RestoreResult {
  snapshotId: string;
  cluster: string;
  method: string;
  standalone: boolean;
  serverVersion: string;
  dataDir: string;
  delta: boolean;
  /** Set when a previous, interrupted restore was completed (its snapshot id). */
  resumed?: string;
  tablespaces: RestoredTablespace[];
  /** Paths removed by --delta (relative to the data directory). */
  removed: string[];
  /** --delta: WAL of the target's pg_wal that the archive lacked, saved (and kept) instead of removed. */
  unarchivedWal?: UnarchivedWal;
  stats: RestoreStats;
  /** What the restored cluster will do when started. */
  recovery: { mode: 'none' | 'crash-recovery' | 'archive-recovery'; signal?: string; settings: Record<string, string> };
  /**
   * Archiving in the restored cluster: the --archive-mode option, and archive_mode /
   * archive_command as the configuration it will read sets them (archive-mode.ts).
   */
  archiving: { option: ArchiveModeOption } & RestoredArchiving;
  /**
   * The backup's configuration files that lived outside the data directory, as restored: where,
   * whether the copy uses them (false: a Debian cluster's own /etc/postgresql configuration is used),
   * and those the backup could not store.
   */
  configuration?: { dir: string; files: PlacedConfigFile[]; used: boolean; missing: { role: string; path: string; error: string }[] };
  /** How to start the restored cluster on this host's layout (when not started by --start). */
  startCommand: string;
  seconds: number;
  /** bytes of the snapshot per second. */
  throughput: number;
  started?: StartedInfo;
  /** The point-in-time recovery plan: the backup chosen and why, the target, the archive's reach. */
  pitr?: PitrPlan;
  /** With --start and archive recovery: how recovery ended (promoted, paused, shut down). */
  recoveryEnd?: RecoveryEnd;
  /** Which WAL the restored cluster recovers with (its own, the archive's) and up to where; absent when it needs none. */
  wal?: WalUsed;
  warnings: string[];
}
