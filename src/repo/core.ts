/** What the parts of the repository engine share: storage, settings, key and the worker pool. */
import type { StorageDriver } from './storage/driver.js';
import type { Codec } from './codec.js';
import type { RepoConfigFile } from './repo-config.js';
import type { WorkerPool } from './worker-pool.js';

export interface RepoCore {
  readonly driver: StorageDriver;
  readonly config: RepoConfigFile;
  /** Codec for new data. */
  readonly codec: Codec;
  /** Master key (encrypted repositories only). */
  readonly key: Buffer | undefined;
  readonly chunkSize: number;
  readonly packSize: number;
  /** Default number of workers. */
  readonly jobs: number;
  /** The shared pool used for reading. */
  pool(): WorkerPool;
}
