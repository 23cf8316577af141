/**
 * Storage drivers for tests: every test file that must pass on both backends asks for the kinds
 * to test, starts the fixtures once in `before`, and opens a fresh, empty repository per test.
 * S3 runs against a real Ceph RGW started here; set PGKEEP_TEST_S3=skip to test posix only.
 * When S3 is not skipped and Ceph is missing, starting fails (tests fail, they do not skip).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PosixDriver } from '../repo/storage/posix/index.js';
import { S3Driver, type S3DriverOptions } from '../repo/storage/s3/index.js';
import type { StorageDriver } from '../repo/storage/driver.js';
import { startCephRgw, type CephRgw } from './ceph.js';

export type StorageKind = 'posix' | 's3';

/** The drivers to test: posix always, s3 unless PGKEEP_TEST_S3=skip. */
export function testedStorageKinds(): StorageKind[] {
  return process.env.PGKEEP_TEST_S3 === 'skip' ? ['posix'] : ['posix', 's3'];
}

export interface StorageFixtures {
  /** The gateway, when S3 is tested. */
  rgw?: CephRgw;
  bucket?: string;
  /** A fresh, empty repository: a new directory, or a new prefix in the test bucket. */
  open(kind: StorageKind, s3Options?: Partial<S3DriverOptions>): Promise<StorageDriver>;
  /**
   * For CLI / openStorage() tests: a fresh s3:// location in the test bucket, the endpoint and
   * region options, and the environment (AWS_ACCESS_KEY_ID...) that carries the credentials.
   */
  s3Settings(): { location: string; s3Endpoint: string; s3Region: string; env: Record<string, string> };
  stop(): Promise<void>;
}

export async function startStorageFixtures(kinds: StorageKind[] = testedStorageKinds()): Promise<StorageFixtures> {
  const base = await mkdtemp(join(tmpdir(), 'pgkeep-storage-'));
  let rgw: CephRgw | undefined;
  const bucket = 'pgkeep-test';
  const opened: StorageDriver[] = [];
  try {
    if (kinds.includes('s3')) {
      rgw = await startCephRgw();
      await rgw.createBucket(bucket);
    }
  } catch (e) {
    await rm(base, { recursive: true, force: true });
    throw e;
  }
  let n = 0;
  return {
    rgw,
    bucket: rgw ? bucket : undefined,
    async open(kind, s3Options = {}) {
      const name = `r${++n}-${randomBytes(4).toString('hex')}`;
      let driver: StorageDriver;
      if (kind === 'posix') {
        driver = new PosixDriver(join(base, name));
      } else {
        if (!rgw) throw new Error('S3 fixtures were not started');
        driver = new S3Driver({
          location: `s3://${bucket}/${name}`,
          endpoint: rgw.endpoint,
          region: rgw.region,
          credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
          ...s3Options,
        });
      }
      opened.push(driver);
      return driver;
    },
    s3Settings() {
      if (!rgw) throw new Error('S3 fixtures were not started');
      return {
        location: `s3://${bucket}/r${++n}-${randomBytes(4).toString('hex')}`,
        s3Endpoint: rgw.endpoint,
        s3Region: rgw.region,
        env: { AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey, AWS_REGION: rgw.region },
      };
    },
    async stop() {
      await Promise.all(opened.map((d) => d.close().catch(() => undefined)));
      await rgw?.stop();
      await rm(base, { recursive: true, force: true });
    },
  };
}
