/**
 * `restore-table`'s inputs, progress events and result. A use case never prints: the CLI
 * renders these.
 */
import type { ClusterSettings } from '../../config/types.js';
import type { Repository } from '../../repo/index.js';
import type { RepositoryAccess } from '../../restore/index.js';

export interface RestoreTableOptions {
  repo: Repository;
  /** Cluster name in the repository (backups and WAL archive). */
  clusterName: string;
  /** The live server the table is loaded into. */
  cluster: ClusterSettings;
  /** How the sandbox's restore_command reaches the repository. */
  access: RepositoryAccess;
  /** `schema.name` or `name` (then schema public), as typed. */
  table: string;
  /** The moment to bring the table back from, as typed (ISO 8601 or PostgreSQL's form). */
  asOf: string;
  /** Database of the table (default: the connection's). */
  database?: string;
  /** New name: `name` (in the table's schema) or `schema.name`. Default `<name>_restored`. */
  as?: string;
  /** Do not set the restored objects' owner (they belong to the connecting role). */
  noOwner?: boolean;
  /** Keep the sandbox (stopped) for inspection instead of removing it. */
  keepSandbox?: boolean;
  /** Parent directory of the sandbox (default os.tmpdir()); it needs room for the whole cluster. */
  sandboxParent?: string;
  signal?: AbortSignal;
  onProgress?: (e: RestoreTableEvent) => void;
}

export type RestoreTableStep =
  | 'check'
  | 'choose-backup'
  | 'restore-sandbox'
  | 'recover'
  | 'prepare'
  | 'dump'
  | 'load'
  | 'verify'
  | 'drop-sandbox';

export interface RestoreTableEvent {
  step: RestoreTableStep;
  state: 'start' | 'progress' | 'done' | 'failed';
  /** Seconds the step took (done, failed). */
  seconds?: number;
  /** What happened, for a person ("snapshot ... (stream, ended ...)", "12.5 MiB of 80 MiB"). */
  detail?: string;
  /** Byte progress of restore-sandbox. */
  bytesDone?: number;
  bytesTotal?: number;
}

export interface StepTiming {
  step: RestoreTableStep;
  seconds: number;
  detail?: string;
}

/** An object of the restored table renamed so it does not collide with the original's. */
export interface RenamedObject {
  kind: 'table' | 'index' | 'sequence' | 'statistics';
  schema: string;
  from: string;
  to: string;
}

export interface RestoreTableResult {
  database: string;
  /** The table as it was named at the target time (display form). */
  table: string;
  /** Where it now is in the live database (display form). */
  restoredAs: string;
  /** The target time, normalised (ISO 8601 UTC). */
  asOf: string;
  /** The zone the target was read in. */
  asOfZone: string;
  backup: { id: string; method: string; stopTime: string; reason: string };
  /** PostgreSQL's own words about where recovery stopped, when it said so. */
  recoveryStop?: string;
  /** Time of the last transaction replayed (at or before the target). */
  lastReplayedTransaction?: string;
  rows: number;
  renamed: RenamedObject[];
  /** Things changed in the sandbox before the dump (foreign keys to other tables, partition detached...). */
  left: string[];
  steps: StepTiming[];
  seconds: number;
  /** Set when --keep-sandbox kept it. */
  sandbox?: { dir: string; dataDir: string; logFile: string; startCommand: string };
  warnings: string[];
}
