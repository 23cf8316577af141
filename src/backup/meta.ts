import type { ExternalConfig } from './external-config.js';

/**
 * What a physical snapshot records about the backup, in its manifest's `meta`. Shared with the
 * restore side (src/restore/) and documented in docs/ (physical backup <-> restore contract).
 */

export interface TablespaceInfo {
  /** Tablespace OID (the name of its pg_tblspc/<oid> symlink). */
  oid: string;
  /** Original location (the symlink's target). */
  location: string;
}

export interface PhysicalBackupMeta {
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
}
