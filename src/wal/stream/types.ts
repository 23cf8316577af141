/** Options, progress events and the result of the streaming WAL receiver. */
import type { ClusterSettings } from '../../config/types.js';
import type { PgkeepError } from '../../errors.js';
import type { Lsn } from '../../pg/lsn.js';
import type { BackoffPolicy } from './backoff.js';
import type { PartialPolicy } from './partial.js';
import type { StartSource } from './position.js';
import type { StoreStatus, StreamRepo } from './store.js';
import type { Codec } from '../../repo/codec.js';

export interface StreamWalOptions {
  repo: StreamRepo;
  /** Cluster name in the repository. */
  cluster: string;
  /** The codec WAL is stored with ([archive] compression); default: the one `wal push` uses. */
  codec?: Codec;
  /** How to reach the server (a replication connection is opened with these settings). */
  connection: ClusterSettings;
  /** Physical replication slot to stream from. */
  slot?: string;
  /** Create the slot (with RESERVE_WAL) when it does not exist. */
  createSlot?: boolean;
  /**
   * Report as flushed what the `.partial` uploads hold too, and upload as soon as the stream is
   * idle, so the receiver can be a synchronous standby (synchronous_standby_names = its
   * application_name) that confirms a commit once its WAL is in the repository.
   */
  synchronous?: boolean;
  /**
   * Start at the slot's position or the server's current segment even when the archive ends
   * earlier (after the server removed WAL the archive lacks: the gap is then accepted).
   */
  fromCurrent?: boolean;
  /** application_name of the replication connection when the connection string names none (default "pgkeep"). */
  applicationName?: string;
  /** When the current segment is uploaded as `.partial` (default every 10 s or 4 MiB). */
  partial?: Partial<PartialPolicy>;
  /** How often a `progress` event is emitted and the status re-sent with the current write position (default 5000 ms). */
  progressIntervalMs?: number;
  /** Reconnect delays (default 1 s doubling up to 30 s). */
  backoff?: Partial<BackoffPolicy>;
  /** Stop cleanly when this fires (SIGTERM/SIGINT): upload the .partial, send a final status, return. */
  signal?: AbortSignal;
  onEvent?: (e: StreamEvent) => void;
}

export type StreamEvent =
  | { type: 'connected'; systemId: string; timeline: number; serverLsn: Lsn; segmentSize: number; serverVersionNum: number }
  | { type: 'slot-created'; slot: string; restartLsn: Lsn | null }
  | { type: 'no-slot-warning'; message: string }
  | { type: 'gap-warning'; message: string; from: Lsn; to: Lsn }
  | { type: 'start'; timeline: number; lsn: Lsn; source: StartSource | 'timeline-switch' | 'reconnect'; slot?: string }
  | { type: 'segment'; file: string; status: StoreStatus }
  | { type: 'partial'; file: string; upTo: Lsn }
  | { type: 'history'; file: string; status: StoreStatus }
  | { type: 'timeline-switch'; from: number; to: number; switchpoint: Lsn }
  | { type: 'progress'; timeline: number; receivedLsn: Lsn; flushedLsn: Lsn; serverLsn: Lsn | null; lagBytes: bigint | null }
  | { type: 'disconnected'; error: PgkeepError; attempt: number; retryInMs: number }
  | { type: 'stopped'; flushedLsn: Lsn; partial?: string };

export interface StreamWalResult {
  systemId: string;
  timeline: number;
  /** End of the WAL received. */
  receivedLsn: Lsn;
  /** End of the WAL durably stored and reported as flushed. */
  flushedLsn: Lsn;
  segmentsStored: number;
  segmentsAlreadyArchived: number;
  partialUploads: number;
  timelineSwitches: number;
  reconnects: number;
  /** The `.partial` left for the segment being received when the receiver stopped. */
  lastPartial?: string;
}
