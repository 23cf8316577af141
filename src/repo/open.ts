/**
 * Opening the repository a command names: storage from the location, then the repository.
 * The shapes match the `repo` settings of the configuration.
 */
import { PgkeepError } from '../errors.js';
import { readRepoConfig } from './repo-config.js';
import type { StorageDriver } from './storage/driver.js';
import { describeUid, repositoryOwner } from './storage/posix/repo-owner.js';
import { openStorage } from './storage/index.js';
import { refuseInitInsideDataDir } from './placement.js';
import { Repository, type InitOptions, type OpenOptions } from './repository.js';

export interface RepoLocation {
  /** Directory or s3://bucket/prefix. */
  path?: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3PathStyle?: boolean;
  /** Codec for new data ([repo] compression / PGKEEP_COMPRESSION); default: the repository's. */
  compression?: string;
  /** Bound of one S3 request, retries included, ms ([repo] s3_timeout). */
  s3TimeoutMs?: number;
  /** Interrupt (SIGINT/SIGTERM) for storage requests in flight. */
  signal?: AbortSignal;
  /** A directory only, as root: the user a new repository belongs to (repo init --owner). */
  owner?: { uid: number; gid: number };
}

/** The storage driver of a configured location (no repository checks). */
export function storageFor(loc: RepoLocation) {
  if (!loc.path) {
    throw new PgkeepError('REPOSITORY', 'no repository location is configured', {
      hint: 'use --repo <dir|s3://bucket/prefix>, set PGKEEP_REPO, or set [repo] path in pgkeep.toml',
    });
  }
  return openStorage(loc.path, {
    s3Endpoint: loc.s3Endpoint,
    s3Region: loc.s3Region,
    s3PathStyle: loc.s3PathStyle,
    s3TimeoutMs: loc.s3TimeoutMs,
    signal: loc.signal,
    ...(loc.owner ? { owner: loc.owner } : {}),
  });
}

/**
 * Run `fn` on the storage of the configured repository without opening it (no key, so no
 * passphrase: the locks), after checking that it is a pgkeep repository; the storage is closed after.
 */
export async function withRepositoryStorage<T>(loc: RepoLocation, fn: (driver: StorageDriver) => Promise<T>): Promise<T> {
  const driver = storageFor(loc);
  try {
    await readRepoConfig(driver);
    return await fn(driver);
  } finally {
    await driver.close();
  }
}

/** The owner of a directory repository ("postgres (uid 105)"), its uid; undefined on S3. */
export function repositoryOwnerOf(location: string): { uid: number; name: string } | undefined {
  const owner = location.startsWith('s3://') ? undefined : repositoryOwner(location);
  return owner && { uid: owner.uid, name: describeUid(owner.uid) };
}

/** Open the configured repository. Call `close()` on the result when done (closes the storage too). */
export async function openRepository(loc: RepoLocation, opts: OpenOptions = {}): Promise<Repository & { closeAll(): Promise<void> }> {
  const driver = storageFor(loc);
  try {
    return withCloseAll(await Repository.open(driver, { ...opts, compression: opts.compression ?? loc.compression }));
  } catch (e) {
    await driver.close();
    throw e;
  }
}

export async function initRepository(loc: RepoLocation, opts: InitOptions = {}): Promise<Repository & { closeAll(): Promise<void> }> {
  const driver = storageFor(loc);
  await refuseInitInsideDataDir(loc.path!).catch(async (e: unknown) => {
    await driver.close();
    throw e;
  });
  try {
    return withCloseAll(await Repository.init(driver, opts));
  } catch (e) {
    await driver.close();
    throw e;
  }
}

function withCloseAll(repo: Repository): Repository & { closeAll(): Promise<void> } {
  return Object.assign(repo, {
    async closeAll() {
      await repo.close();
      await repo.driver.close();
    },
  });
}
