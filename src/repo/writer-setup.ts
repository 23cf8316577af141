/** What a SnapshotWriter is given: where to write, how to encode, what it is incremental to. */
import type { RepoCore } from './core.js';
import type { Codec } from './codec.js';
import type { SnapshotKind, SnapshotManifest } from './manifest.js';
import type { FileLookup } from './file-lookup.js';

export interface WriterSetup {
  core: RepoCore;
  id: string;
  cluster: string;
  kind: SnapshotKind;
  codec: Codec;
  jobs: number;
  /** The previous snapshot's records (same chunk size), looked up part by part, for incremental reuse. */
  previous?: FileLookup;
  /** Chunks of file records held in memory before they are sorted into a temporary file (tests lower it). */
  spillBudgetChunks?: number;
  previousId?: string;
  /** Store a changed chunk as a delta on its base chunk when that is smaller (format 2). */
  deltas: boolean;
  /** Compute each file's whole-content SHA-256 (default true). */
  fileSha256: boolean;
  signal?: AbortSignal;
  /** Writes the manifest object. */
  publish(manifest: SnapshotManifest): Promise<void>;
  /** Called once when the writer commits or aborts (releases the lock). */
  release(): Promise<void>;
  /** The lock `release` releases (named in messages). */
  lockId?: string;
  /** A failure after the manifest was published (releasing the lock): a warning, not a failed snapshot. */
  onWarning?: (message: string) => void;
}
