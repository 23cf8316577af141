/**
 * Storage drivers behind one contract. `openStorage` picks the driver from the repository
 * location: `s3://bucket/prefix` is S3, anything else a local directory.
 */
import { PosixDriver } from './posix/index.js';
import { S3Driver } from './s3/index.js';
import type { StorageDriver } from './driver.js';
import { PgkeepError } from '../../errors.js';

export type { ByteRange, ObjectInfo, StorageDriver } from './driver.js';
export { PosixDriver } from './posix/index.js';
export { S3Driver, parseS3Location } from './s3/index.js';
export type { S3DriverOptions, S3Location } from './s3/index.js';
export { validateKey, compareKeys } from './keys.js';

export interface OpenStorageOptions {
  /** S3 endpoint URL, e.g. http://127.0.0.1:7480 (default: AWS). */
  s3Endpoint?: string;
  /** S3 region (default us-east-1). */
  s3Region?: string;
  /** Path-style addressing (default: true when an endpoint is given). */
  s3PathStyle?: boolean;
  /** Bound of one S3 request, retries included, ms (default 60 s). */
  s3TimeoutMs?: number;
  /** Interrupt (SIGINT/SIGTERM): S3 requests in flight end at once. */
  signal?: AbortSignal;
  /** A directory only, as root: make the repository this user's (repo init --owner). */
  owner?: { uid: number; gid: number };
}

export function openStorage(location: string, opts: OpenStorageOptions = {}): StorageDriver {
  if (/^s3:\/\//i.test(location)) {
    if (opts.owner) {
      throw new PgkeepError('USAGE', 'an owner can only be given to a repository in a directory, not on S3', {
        hint: "leave out --owner: S3 objects belong to the bucket, and access is the credentials' business",
      });
    }
    return new S3Driver({
      location,
      endpoint: opts.s3Endpoint,
      region: opts.s3Region,
      forcePathStyle: opts.s3PathStyle,
      timeoutMs: opts.s3TimeoutMs,
      signal: opts.signal,
    });
  }
  return new PosixDriver(location, opts.owner ? { owner: opts.owner } : {});
}
