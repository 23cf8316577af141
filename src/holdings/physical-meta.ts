/**
 * What a physical snapshot records about the backup, in its manifest's `meta`. Shared with the
 * restore side (src/restore/) and documented in docs/ (physical backup <-> restore contract).
 * Read it with readPhysicalMeta (read-physical-meta.ts), never by casting a manifest's meta.
 */
import { parseLsn } from '../pg/lsn.js';
import { walFileNameForLsn } from '../pg/wal-name.js';

/** Configuration files that lived outside the data directory (backup/external-config.ts collects them). */
export type ConfigRole = 'config_file' | 'hba_file' | 'ident_file' | 'include';

export interface ExternalConfigFile {
  role: ConfigRole;
  /** Absolute path on the source host. */
  path: string;
  /** The file's text; absent when it could not be read (see `error`). */
  text?: string;
  /** Why it is not stored. */
  error?: string;
}

export interface ExternalConfig {
  /** The source's data_directory, which the files may name. */
  dataDirectory: string;
  /** config_file, hba_file, ident_file as the server named them (inside the data directory or not). */
  locations?: { configFile: string; hbaFile: string; identFile: string };
  files: ExternalConfigFile[];
  /** Directories postgresql.conf includes with include_dir (outside the data directory), even empty ones. */
  includeDirs: string[];
}

export interface TablespaceInfo {
  /** Tablespace OID (the name of its pg_tblspc/<oid> symlink). */
  oid: string;
  /** Original location (the symlink's target). */
  location: string;
}

/**
 * A type alias, not an interface, on purpose: an object type alias is assignable to the
 * manifest's `Record<string, unknown>` meta, so the backup commits it without a cast.
 */
export type PhysicalBackupMeta = {
  method: 'stream' | 'local' | 'cold';
  label: string;
  /** WAL start..end stored inside the snapshot under pg_wal/. */
  standalone: boolean;
  /** Decimal string. */
  systemIdentifier: string;
  /** e.g. "15.18". */
  serverVersion: string;
  /** e.g. 150018. */
  serverVersionNum: number;
  timeline: number;
  /** "0/2000028" (formatLsn); cold: the checkpoint LSN. */
  startLsn: string;
  stopLsn: string;
  /** ISO 8601 UTC. */
  startTime: string;
  stopTime: string;
  walSegmentSize: number;
  /** First WAL segment needed (name); cold: none -> "". */
  walStart: string;
  /** Last WAL segment needed. */
  walEnd: string;
  /** Contents of backup_label (hot backups). */
  backupLabel?: string;
  /** Contents of tablespace_map when any tablespace. */
  tablespaceMap?: string;
  tablespaces: TablespaceInfo[];
  dataChecksums: boolean;
  /** True when the file "backup_manifest" (the server's, stream method) is in the snapshot. */
  serverManifest: boolean;
  /**
   * postgresql.conf, pg_hba.conf, pg_ident.conf and included files that lived outside the data
   * directory (Debian: /etc/postgresql/<major>/<name>), with their text. Absent in older
   * snapshots and when every file was inside the data directory.
   */
  externalConfig?: ExternalConfig;
  /** Snapshot id the chunks were compared against. */
  incrementalFrom?: string;
  stats?: Record<string, number>;
};

/** The first WAL segment a backup needs from the archive (its walStart, or a cold backup's checkpoint segment). */
export function backupFirstSegment(b: PhysicalBackupMeta): string {
  return b.walStart || walFileNameForLsn(b.timeline, parseLsn(b.startLsn), b.walSegmentSize);
}
