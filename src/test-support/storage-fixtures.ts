/**
 * Storage drivers for tests. A test file that must pass on both backends creates the fixtures,
 * calls `ready(kind)` in each driver's `before`, opens a fresh empty repository per test, and
 * calls `stop()` in `after`:
 *
 *   const fx = storageFixtures();
 *   after(() => fx.stop());
 *   for (const kind of testedStorageKinds()) describe(kind, () => {
 *     before(() => fx.ready(kind));
 *     test('...', async () => { const d = await fx.open(kind); ... });
 *   });
 *
 * S3 runs against a real Ceph RGW started once per file (about 10 s); PGKEEP_TEST_S3=skip tests
 * posix only. When S3 is not skipped and Ceph is missing, the S3 tests fail (they do not skip).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
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

export interface S3TestSettings {
  location: string;
  s3Endpoint: string;
  s3Region: string;
  /** AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION for the SDK's default chain. */
  env: Record<string, string>;
}

export interface StorageFixtures {
  /** Start what `kind` needs (the gateway for s3; once). */
  ready(kind: StorageKind): Promise<void>;
  /** A fresh, empty repository: a new directory, or a new prefix in the test bucket. */
  open(kind: StorageKind, s3Options?: Partial<S3DriverOptions>): Promise<StorageDriver>;
  /** For CLI / openStorage() tests: a fresh s3:// location with endpoint, region and credentials. */
  s3Settings(): Promise<S3TestSettings>;
  /** The running gateway (after ready('s3')). */
  readonly rgw: CephRgw | undefined;
  readonly bucket: string;
  stop(): Promise<void>;
}

export function storageFixtures(): StorageFixtures {
  const base = mkdtempSync(join(tmpdir(), 'pgkeep-storage-'));
  const bucket = 'pgkeep-test';
  const opened: StorageDriver[] = [];
  let rgw: CephRgw | undefined;
  let rgwStarting: Promise<CephRgw> | undefined;
  let n = 0;
  const fresh = () => `r${++n}-${randomBytes(4).toString('hex')}`;

  const startS3 = (): Promise<CephRgw> => {
    rgwStarting ??= (async () => {
      const started = await startCephRgw();
      rgw = started;
      await started.createBucket(bucket);
      return started;
    })();
    return rgwStarting;
  };

  return {
    bucket,
    get rgw() {
      return rgw;
    },
    async ready(kind) {
      if (kind === 's3') await startS3();
    },
    async open(kind, s3Options = {}) {
      let driver: StorageDriver;
      if (kind === 'posix') {
        driver = new PosixDriver(join(base, fresh()));
      } else {
        const g = await startS3();
        driver = new S3Driver({
          location: `s3://${bucket}/${fresh()}`,
          endpoint: g.endpoint,
          region: g.region,
          credentials: { accessKeyId: g.accessKeyId, secretAccessKey: g.secretAccessKey },
          ...s3Options,
        });
      }
      opened.push(driver);
      return driver;
    },
    async s3Settings() {
      const g = await startS3();
      return {
        location: `s3://${bucket}/${fresh()}`,
        s3Endpoint: g.endpoint,
        s3Region: g.region,
        env: { AWS_ACCESS_KEY_ID: g.accessKeyId, AWS_SECRET_ACCESS_KEY: g.secretAccessKey, AWS_REGION: g.region },
      };
    },
    async stop() {
      await Promise.all(opened.map((d) => d.close().catch(() => undefined)));
      await rgwStarting?.catch(() => undefined);
      await rgw?.stop();
      await rm(base, { recursive: true, force: true });
    },
  };
}
