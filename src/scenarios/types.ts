/**
 * What a life scenario is: a situation a DBA meets, the backup that fits it and why the others do
 * not, what must be set up beforehand, what is copied and from where — and a run on throwaway
 * clusters, in named steps, that measures what could be lost (RPO) and how long recovery took (RTO).
 *
 * The data here is the single source of `pgkeep scenario explain`, `scenario list` and
 * docs/scenarios.md; `run` is the proof.
 */
import type { RepoLocation } from '../repo/index.js';

export interface Alternative {
  /** The other way ("pg_dump every night", "a physical backup"...). */
  method: string;
  /** Why it does not fit here, or what it would cost. */
  why: string;
}

export interface Copied {
  /** What is copied ("the table's rows", "every data file", "WAL segments"). */
  what: string;
  /** From where, and through which path ("SQL over the system catalogs", "the replication protocol"). */
  from: string;
}

export interface Prerequisites {
  /** Exact postgresql.conf lines ([] when none are needed). */
  postgresqlConf: string[];
  /** Exact pg_hba.conf lines. */
  pgHba: string[];
  /** Roles and privileges. */
  roles: string[];
  /** When it runs (cron line, agent schedule, by hand). */
  schedule: string;
}

export interface ScenarioInfo {
  /** Position in the list (1 = the demo). */
  number: number;
  /** Command-line name (kebab-case). */
  name: string;
  title: string;
  /** What happened, or what is asked. */
  situation: string;
  /** The backup that fits, and why. */
  fits: { method: string; why: string };
  /** The others, and why not. */
  notThese: Alternative[];
  prerequisites: Prerequisites;
  copied: Copied[];
  /** pgkeep commands the scenario shows, in order. */
  commands: string[];
  /** Client programs needed besides the server (initdb, pg_ctl, postgres): pg_dump, pg_restore... */
  needsClientTools: string[];
  /** The run puts its repository on S3 when given an s3:// location (`pgkeep --repo s3://... scenario run`). */
  repositoryOnS3?: boolean;
}

export interface ScenarioRunOptions {
  /** Leave the clusters (and their work directory) in place at the end. */
  keep?: boolean;
  /** Server binaries (default: the ones the binary search finds). */
  pgBin?: string;
  signal?: AbortSignal;
  onStep?: (event: ScenarioStepEvent) => void;
  /** An s3:// location (with its S3 settings) for the repository, for scenarios with `repositoryOnS3`. */
  s3?: RepoLocation;
}

export interface ScenarioStepEvent {
  phase: 'start' | 'end';
  index: number;
  total: number;
  name: string;
  title: string;
  narration: string;
  ms?: number;
  result?: unknown;
}

export interface StepRecord {
  name: string;
  title: string;
  narration: string;
  ms: number;
  result?: unknown;
}

/** A measured time, with what it covers. */
export interface Measure {
  seconds: number;
  /** What the number means in this run ("writes after the target", "restore + replay"). */
  meaning: string;
}

/** What a scenario step reports for a person: sentences, and the facts behind them. */
export interface StepReport {
  lines: string[];
  [fact: string]: unknown;
}

export interface ScenarioResult {
  scenario: string;
  steps: StepRecord[];
  /** What could be lost: the span of writes a recovery did not bring back. */
  rpo: Measure;
  /** How long getting the data back took. */
  rto: Measure;
  /** Data checks of the run: each must hold for the run to count as a success. */
  checks: { what: string; ok: boolean }[];
  /** --keep: what is still there and how to remove it. */
  kept?: { what: string; connect?: string; stop?: string; remove: string }[];
}

export interface SkippedScenario {
  scenario: string;
  skipped: string;
  /** The package that provides what is missing. */
  install: string;
}

export interface Scenario extends ScenarioInfo {
  run: (opts: ScenarioRunOptions) => Promise<ScenarioResult>;
}
