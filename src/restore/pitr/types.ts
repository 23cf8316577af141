/** Point-in-time recovery: what the caller asks for, and what the plan decided. */
import type { ConfValue } from '../../pg/conf-file.js';
import type { TargetTime } from './time.js';

export type PitrTarget =
  | { kind: 'time'; time: TargetTime }
  | { kind: 'xid'; xid: string }
  | { kind: 'lsn'; lsn: bigint }
  | { kind: 'name'; name: string }
  | { kind: 'immediate' };

export type TargetAction = 'pause' | 'promote' | 'shutdown';
export type TimelineChoice = 'latest' | 'current' | number;

export interface PitrRequest {
  /** Where recovery stops; none = replay all archived WAL (the latest point). */
  target?: PitrTarget;
  /** What the server does at the target (default promote). */
  action?: TargetAction;
  /** Which timeline recovery follows (default latest). */
  timeline?: TimelineChoice;
  /** Stop just before the target instead of just after it (recovery_target_inclusive = off). */
  exclusive?: boolean;
}

/** What the archive lets a backup reach. */
export interface ArchiveReach {
  /** The timeline recovery follows, and its history path. */
  timeline: number;
  /** First and last archived segment reachable from the backup without a gap. */
  firstSegment?: string;
  lastSegment?: string;
  /** Start LSN of the last WAL record in the archive on that path (precise: read from the WAL). */
  lastRecordLsn?: string;
  /** End of the last reachable segment (coarse bound when the WAL was not read). */
  endLsn: string;
  /** The last transaction end (commit/abort) in the archive, when looked for. */
  lastTransaction?: { xid: number; kind: 'commit' | 'abort'; time: string; lsn: string };
  /** Segments read to find these facts. */
  segmentsRead: number;
}

/**
 * A gap in the archive after the WAL a backup can reach: segments missing on the timeline path
 * between the last reachable one and newer archived ones, which recovery therefore never replays.
 */
export interface ArchiveGap {
  /** The last segment reachable without a gap. */
  after: string;
  /** The first and last missing segment, and how many are missing. */
  missingFrom: string;
  missingTo: string;
  missing: number;
  /** The first archived segment after the gap, the newest archived one on the path, and how many archived segments recovery cannot reach. */
  resumesAt: string;
  newest: string;
  unreachable: number;
}

/** Which WAL a restore recovers with, and up to where: the recovery point the repository allows. */
export interface WalUsed {
  /** WAL stored in the snapshot's pg_wal/ (standalone: its walStart..walEnd; cold: its checkpoint's segment). */
  fromBackup?: { first: string; last: string };
  /** Archived segments replayed, reachable without a gap, on the timeline path followed (its last timeline given). */
  fromArchive?: { timeline: number; first: string; last: string };
  /**
   * Only the snapshot's own WAL: the cluster has no WAL in the archive, and restore_command
   * fetches nothing (`false`); recovery still ends with a promotion to a new timeline.
   */
  ownWalOnly?: boolean;
  /**
   * The end of the WAL available: the start of the last record in the last segment (`record`),
   * or that segment's end when it was not read (`segment-end`), or the backup's own end.
   */
  upTo: { lsn: string; segment: string; what: 'record' | 'segment-end' | 'backup-end' };
  /** A gap after `upTo`: archived WAL beyond it cannot be replayed. */
  gap?: ArchiveGap;
}

export interface PitrPlan {
  /** The backup chosen (or given). */
  snapshotId: string;
  /** Why that backup (when pgkeep chose it). */
  reason: string;
  /** recovery_target* settings for postgresql.auto.conf. */
  settings: Record<string, ConfValue>;
  /** The target as PostgreSQL will read it ("2026-01-02 03:04:05+00", "0/3000148", ...). */
  target?: { kind: PitrTarget['kind']; value: string; zone?: string };
  action: TargetAction;
  timeline: number;
  /** Backup end (the earliest reachable point with this backup) and the archive's reach. */
  backupEnd: { lsn: string; time: string };
  reach?: ArchiveReach;
  /** The WAL record the target names (restore point, transaction), when found. */
  found?: string;
  /** Which WAL recovery uses (the backup's own, the archive's) and how far it reaches. */
  wal: WalUsed;
  warnings: string[];
}

/** How a started recovery ended (--start). */
export interface RecoveryEnd {
  /** promoted: read-write; paused: read-only at the target; shut down: stopped at the target. */
  state: 'promoted' | 'paused' | 'shut down';
  /** PostgreSQL's own words: "recovery stopping before commit of transaction 745, time ...". */
  stoppedAt?: string;
  /** "last completed transaction was at log time ..." */
  lastTransactionTime?: string;
  /** Replay position when it paused (pg_last_wal_replay_lsn) or the promotion's timeline. */
  replayLsn?: string;
  /** "redo done at": where the last record replayed starts, from the server log. */
  redoDoneAt?: string;
  timeline?: number;
  /** Seconds from the server's start to the target. */
  seconds: number;
}
