/** A restore drill's inputs and progress events; the result is its record (holdings/drill-records.ts). */
import type { Repository } from '../repo/index.js';
import type { RepositoryAccess } from '../restore/index.js';
import type { DrillPhase } from '../holdings/drill-records.js';

export interface DrillOptions {
  repo: Repository;
  /** Cluster name in the repository. */
  cluster: string;
  /** How the sandbox's restore_command reaches the repository. */
  access: RepositoryAccess;
  /** "latest" (default: the end of the archive), "random" or a time (ISO 8601 or PostgreSQL's form). */
  target?: string;
  /** random: a moment within the last N days (default 7). */
  randomDays?: number;
  /** A file of SQL statements, each returning one boolean: false or an error fails the drill. */
  checkSql?: string;
  /** Keep the sandbox (stopped) instead of removing it. */
  keep?: boolean;
  /** Where the sandbox is created (default: the temp directory). */
  sandboxParent?: string;
  /** Longest the drill may take (ms; default 24 h): then it fails in the phase it was in, and the sandbox is killed. */
  maxDurationMs?: number;
  /** Directory of the server binaries (the cluster's pg_bin). */
  pgBin?: string;
  /** Written into the record. */
  pgkeepVersion: string;
  /** The random source of --target random (tests). */
  random?: () => number;
  /** "Now" for --target random (tests). */
  now?: () => Date;
  signal?: AbortSignal;
  onProgress?: (e: DrillEvent) => void;
}

export interface DrillEvent {
  phase: DrillPhase | 'cleanup' | 'record';
  state: 'start' | 'done' | 'failed' | 'progress';
  seconds?: number;
  detail?: string;
  bytesDone?: number;
  bytesTotal?: number;
}
