/**
 * pgkeep.json: the one unencrypted object that says what the repository is. Readers check the
 * format and version before touching anything else.
 */
import { PgkeepError } from '../errors.js';
import type { StorageDriver } from './storage/driver.js';
import type { EncryptionSettings } from './key-wrap.js';
import { formatCodec, parseCodec } from './codec.js';

export const CONFIG_KEY = 'pgkeep.json';
export const FORMAT_NAME = 'pgkeep-repository';
/**
 * The version new repositories get. Version 2 adds delta chunks (docs/repository-format.md); a
 * version-1 repository is read as it is and upgraded in place (this field only) just before
 * its first snapshot with a delta chunk is published, so that an older pgkeep, which would not
 * know that delta chunks keep their base chunks alive, refuses it rather than gc them away.
 */
export const FORMAT_VERSION = 2;
/** The versions this pgkeep reads. */
export const READABLE_VERSIONS: readonly number[] = [1, 2];

export const DEFAULT_CHUNK_SIZE = 128 * 1024;
export const DEFAULT_PACK_SIZE = 32 * 1024 * 1024;
export const MIN_CHUNK_SIZE = 4 * 1024;
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;

export interface RepoConfigFile {
  format: typeof FORMAT_NAME;
  version: number;
  /** Random UUID of this repository. */
  id: string;
  /** ISO time of `repo init`. */
  created: string;
  /** Chunk size in bytes (fixed for the life of the repository). */
  chunkSize: number;
  /** Pack target size in bytes: a pack is published once it reaches it. */
  packSize: number;
  /** Default codec spec for new data, e.g. "zstd:3". */
  compression: string;
  /** null when the repository is not encrypted. */
  encryption: EncryptionSettings | null;
}

export async function readRepoConfig(driver: StorageDriver): Promise<RepoConfigFile> {
  let raw: Buffer;
  try {
    raw = await driver.get(CONFIG_KEY);
  } catch (e) {
    if ((e as PgkeepError).code === 'NOT_FOUND') {
      throw new PgkeepError('REPOSITORY', `${driver.location} is not a pgkeep repository (no ${CONFIG_KEY})`, {
        hint: 'create one with "pgkeep repo init", or point --repo / PGKEEP_REPO / [repo] path at an existing repository',
      });
    }
    throw e;
  }
  let doc: RepoConfigFile;
  try {
    doc = JSON.parse(raw.toString('utf8')) as RepoConfigFile;
  } catch {
    throw damaged(driver, 'it is not valid JSON');
  }
  if (doc?.format !== FORMAT_NAME) throw damaged(driver, `its "format" is not "${FORMAT_NAME}"`);
  if (!READABLE_VERSIONS.includes(doc.version)) {
    throw new PgkeepError(
      'REPOSITORY',
      `repository ${driver.location} has format version ${doc.version}; this pgkeep reads versions ${READABLE_VERSIONS.join(' and ')}`,
      {
        hint: 'use a pgkeep release that supports this repository format',
      },
    );
  }
  if (typeof doc.id !== 'string' || !Number.isInteger(doc.chunkSize) || !Number.isInteger(doc.packSize)) {
    throw damaged(driver, 'id, chunkSize or packSize is missing');
  }
  try {
    parseCodec(doc.compression);
  } catch {
    throw damaged(driver, `compression "${doc.compression}" is not a known codec`);
  }
  if (doc.encryption !== null) {
    const e = doc.encryption;
    if (e?.cipher !== 'aes-256-gcm' || e.kdf?.name !== 'scrypt' || typeof e.wrappedKey !== 'string') {
      throw damaged(driver, 'its encryption settings are not understood');
    }
  }
  return doc;
}

export async function writeRepoConfig(driver: StorageDriver, doc: RepoConfigFile): Promise<void> {
  await driver.put(CONFIG_KEY, Buffer.from(JSON.stringify(doc, null, 2) + '\n', 'utf8'));
}

/** Raise a version-1 repository to version 2 (before the first manifest that needs it is published). */
export async function upgradeForDeltas(driver: StorageDriver, doc: RepoConfigFile): Promise<void> {
  if (doc.version >= FORMAT_VERSION) return;
  await writeRepoConfig(driver, { ...doc, version: FORMAT_VERSION });
  doc.version = FORMAT_VERSION;
}

export function newRepoConfig(
  id: string,
  chunkSize: number,
  packSize: number,
  compression: string,
  encryption: EncryptionSettings | null,
): RepoConfigFile {
  return {
    format: FORMAT_NAME,
    version: FORMAT_VERSION,
    id,
    created: new Date().toISOString(),
    chunkSize,
    packSize,
    compression: formatCodec(parseCodec(compression)),
    encryption,
  };
}

/** Parse "128k", "1m", "131072" into bytes; must be a power of two between 4 KiB and 16 MiB. */
export function parseChunkSize(spec: string | number, from = 'chunk size'): number {
  const m = /^(\d+)\s*([kmg]?)i?b?$/i.exec(String(spec).trim());
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>;
  const n = m ? Number(m[1]) * mult[m[2]!.toLowerCase()]! : NaN;
  if (!Number.isInteger(n) || n < MIN_CHUNK_SIZE || n > MAX_CHUNK_SIZE || (n & (n - 1)) !== 0) {
    throw new PgkeepError('USAGE', `invalid ${from} "${spec}"`, {
      hint: 'use a power of two between 4k and 16m, e.g. 128k (the default) or 1m',
    });
  }
  return n;
}

function damaged(driver: StorageDriver, why: string): PgkeepError {
  return new PgkeepError('REPOSITORY', `${CONFIG_KEY} in ${driver.location} is damaged: ${why}`, {
    hint: 'restore pgkeep.json from a copy; without it the repository cannot be read',
  });
}
