/**
 * Scenario 7's repository on S3, when one is given (`pgkeep --repo s3://BUCKET/PREFIX scenario run
 * disaster-recovery`, or PGKEEP_REPO / [repo] path, with the usual S3 settings): a fresh prefix of
 * the scenario's own under it (never an existing repository), a config file with the S3 settings
 * for the server's archive_command and restore_command, and the removal of that prefix at the end.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import { Repository, type RepoLocation } from '../repo/index.js';
import { openStorage } from '../repo/storage/index.js';
import type { StorageDriver } from '../repo/storage/driver.js';
import type { DemoState } from './demo-state.js';

export function isS3Location(path: string | undefined): boolean {
  return /^s3:\/\//i.test(path ?? '');
}

/** What the scenario's output says about where its repository is, and why. */
export function repositoryWhere(s3: RepoLocation | undefined): string {
  return s3
    ? 'on S3, as given by --repo, PGKEEP_REPO or [repo] path'
    : 'a directory: no s3:// repository was given (pgkeep --repo s3://BUCKET/PREFIX scenario run disaster-recovery, ' +
        'with the S3 settings of docs/configuration.md, puts it on S3)';
}

/** The S3 storage of a location, from its settings (a new driver each time: a new host opens its own). */
export function s3Storage(loc: RepoLocation): StorageDriver {
  return openStorage(loc.path ?? '', {
    s3Endpoint: loc.s3Endpoint,
    s3Region: loc.s3Region,
    s3PathStyle: loc.s3PathStyle,
    s3TimeoutMs: loc.s3TimeoutMs,
    signal: loc.signal,
  });
}

/**
 * The server runs archive_command and restore_command with the environment it was started with:
 * the S3 credentials must be there (checked before anything starts).
 */
export function requireS3Credentials(): void {
  if (!process.env.AWS_ACCESS_KEY_ID || !process.env.AWS_SECRET_ACCESS_KEY) {
    throw new PgkeepError('CONFIG', 'the repository is on S3, and AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not set', {
      hint:
        "the server's archive_command and restore_command get S3 credentials only from the environment the scenario " +
        'starts the server with (not from a profile in your home directory): export both, or run the scenario without an s3:// repository',
    });
  }
}

/**
 * A new repository under a prefix of its own below `given`, and the config file (in the work
 * directory) that names it with its S3 settings.
 */
export async function initS3Repository(s: DemoState, given: RepoLocation, passphrase?: string): Promise<Repository> {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const loc: RepoLocation = {
    ...given,
    path: `${(given.path ?? '').replace(/\/+$/, '')}/pgkeep-scenario-${stamp}-${randomBytes(3).toString('hex')}`,
  };
  const workDir = s.workDir ?? '';
  const configFile = join(workDir, 'pgkeep.toml');
  const settings = [
    `path = ${JSON.stringify(loc.path)}`,
    ...(loc.s3Endpoint ? [`s3_endpoint = ${JSON.stringify(loc.s3Endpoint)}`] : []),
    ...(loc.s3Region ? [`s3_region = ${JSON.stringify(loc.s3Region)}`] : []),
    ...(loc.s3PathStyle !== undefined ? [`s3_path_style = ${loc.s3PathStyle}`] : []),
    ...(loc.s3TimeoutMs !== undefined ? [`s3_timeout = "${Math.ceil(loc.s3TimeoutMs / 1000)}s"`] : []),
  ];
  writeFileSync(configFile, `# The scenario's S3 repository, for archive_command and restore_command.\n[repo]\n${settings.join('\n')}\n`);
  s.repoDir = loc.path;
  s.repoConfigFile = configFile;
  s.repoLocation = loc;
  const driver = s3Storage(loc);
  try {
    return await Repository.init(driver, { jobs: 2, ...(passphrase !== undefined ? { passphrase } : {}) });
  } finally {
    s.dropRepository = () => removeAll(driver);
  }
}

/** Every object under the scenario's own prefix (it created them all), then the storage closed. */
async function removeAll(driver: StorageDriver): Promise<void> {
  try {
    const keys: string[] = [];
    for await (const o of driver.list('')) keys.push(o.key);
    for (const k of keys) await driver.delete(k);
  } finally {
    await driver.close();
  }
}
