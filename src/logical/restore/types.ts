/** What restore-dump takes and gives back. */

import type { ClusterSettings } from '../../config/types.js';
import type { Repository } from '../../repo/index.js';
import type { DumpMeta } from '../meta.js';
import type { RestoreErrorInfo } from './pg-restore-log.js';

export interface RestoreDumpOptions {
  repo: Repository;
  clusterName: string;
  /** The configured connection (the target unless --into-url). */
  cluster: ClusterSettings;
  /** Snapshot id or 'latest'. */
  id: string;
  /** Restore into this existing database. */
  into?: string;
  /** Create the dumped database (pg_restore --create). */
  create?: boolean;
  /** Target server (and database, if --into is not given) as a libpq URL/conninfo. */
  intoUrl?: string;
  /** Which database of an --all snapshot to restore (when not restoring all). */
  sourceDatabase?: string;
  tables?: string[];
  schemas?: string[];
  clean?: boolean;
  noOwner?: boolean;
  jobs?: number;
  /** Set by restoreDump when `jobs` is its default: then no archive is copied to disk for it. */
  defaultJobs?: boolean;
  all?: boolean;
  continueOnError?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: RestoreProgress) => void;
}

export interface RestoreProgress {
  part: string;
  step?: string;
  bytes?: number;
}

export interface RestoredError extends RestoreErrorInfo {
  /** "TABLE sales.orders" when the TOC entry is known. */
  object?: string;
  /** One line for a person. */
  text: string;
}

export interface RestoredPart {
  /** 'globals' or the dumped database's name. */
  name: string;
  /** Database restored into ('' for globals). */
  target: string;
  mode: 'into' | 'create' | 'psql';
  /** Entries chosen by --table/--schema (all when not selective). */
  entries?: number;
  /** Dependent entries left out (e.g. FK constraints to tables not restored). */
  skipped: string[];
  errors: RestoredError[];
  /** Errors that were expected and harmless (globals: "role ... already exists"). */
  ignored: string[];
  seconds: number;
}

export interface RestoreDumpResult {
  snapshotId: string;
  format: DumpMeta['format'];
  parts: RestoredPart[];
  errorCount: number;
  /** Parallel jobs used for each database (--jobs, or the default). */
  jobs: number;
  seconds: number;
  warnings: string[];
}
