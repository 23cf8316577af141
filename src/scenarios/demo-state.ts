/** What the demo's steps share: options, the clusters and repository they create, facts for later narration. */
import type { DoctorReport } from '../doctor/index.js';
import type { InspectReport } from '../inspect/index.js';
import type { LocalCluster } from '../pg/local-cluster.js';
import type { Repository, RepoLocation } from '../repo/index.js';
import type { RestoreResult } from '../restore/index.js';
import type { ScenarioStepEvent } from './types.js';

export interface DemoOptions {
  /** Leave the clusters running at the end (and say how to connect) instead of removing them. */
  keep?: boolean;
  /** Server binaries (default: the newest found). */
  pgBin?: string;
  signal?: AbortSignal;
  /** Called when a step starts, and again when it ends (with `ms` and `result`). */
  onStep?: (event: ScenarioStepEvent) => void;
  /** An s3:// location to create the repository under (scenario 7; default: a directory in the work directory). */
  s3?: RepoLocation;
}

export type { ScenarioStepEvent as DemoStepEvent } from './types.js';

export interface DemoState {
  opts: DemoOptions;
  cluster?: LocalCluster;
  inspect?: InspectReport;
  doctor?: DoctorReport;
  /** Temporary directory holding the repository and the recovered cluster. */
  workDir?: string;
  /** The repository: a directory in the work directory, or an s3:// location. */
  repoDir?: string;
  /** On S3: the config file with its settings (archive_command and restore_command read it), its location, and its removal. */
  repoConfigFile?: string;
  repoLocation?: RepoLocation;
  dropRepository?: () => Promise<void>;
  /** The encrypted repository's passphrase file. */
  passphraseFile?: string;
  repo?: Repository;
  backupId?: string;
  /** Orders in the shop right before the accident. */
  ordersBeforeDrop?: number;
  /** The server's clock just before the DROP, and the recovery target one second earlier. */
  dropTime?: string;
  targetTime?: string;
  recovered?: LocalCluster;
  restore?: RestoreResult;
  /** Further clusters a scenario starts (a newer major, a standby...), removed with the others. */
  extra?: { label: string; cluster: LocalCluster }[];
}
