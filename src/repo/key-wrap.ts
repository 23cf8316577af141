/**
 * The master key is random and never changes; what pgkeep.json stores is that key sealed with a
 * key-encryption key derived from the passphrase by scrypt. Changing the passphrase re-wraps
 * the master key and rewrites nothing else.
 */
import { randomBytes, scrypt } from 'node:crypto';
import { PgkeepError } from '../errors.js';
import { KEY_BYTES, open, randomKey, seal } from './cipher.js';

export interface ScryptParams {
  name: 'scrypt';
  /** CPU/memory cost (power of two). */
  N: number;
  r: number;
  p: number;
  /** base64 */
  salt: string;
}

export interface EncryptionSettings {
  cipher: 'aes-256-gcm';
  kdf: ScryptParams;
  /** base64 of nonce || AES-256-GCM(master key) || tag, AAD = "pgkeep-master-key:" + repository id. */
  wrappedKey: string;
}

/** Defaults: N=2^15, r=8, p=1 (32 MiB, ~0.1 s): cheap enough for one archive_command per WAL segment. */
export const DEFAULT_SCRYPT = { N: 1 << 15, r: 8, p: 1 };

function deriveKek(passphrase: string, kdf: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      passphrase.normalize('NFC'),
      Buffer.from(kdf.salt, 'base64'),
      KEY_BYTES,
      { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r + 16 * 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

const aadFor = (repoId: string) => Buffer.from(`pgkeep-master-key:${repoId}`, 'utf8');

/** Wrap `masterKey` (a new random one by default) under `passphrase` with a fresh salt. */
export async function wrapMasterKey(
  passphrase: string,
  repoId: string,
  masterKey: Buffer = randomKey(),
  cost = DEFAULT_SCRYPT,
): Promise<{ settings: EncryptionSettings; masterKey: Buffer }> {
  if (passphrase.length === 0) {
    throw new PgkeepError('PASSPHRASE', 'the passphrase is empty', { hint: 'choose a non-empty passphrase' });
  }
  const kdf: ScryptParams = { name: 'scrypt', ...cost, salt: randomBytes(16).toString('base64') };
  const kek = await deriveKek(passphrase, kdf);
  const wrapped = seal(kek, aadFor(repoId), masterKey);
  return { settings: { cipher: 'aes-256-gcm', kdf, wrappedKey: wrapped.toString('base64') }, masterKey };
}

/** Unwrap the master key; a wrong passphrase is PgkeepError PASSPHRASE. */
export async function unwrapMasterKey(passphrase: string, repoId: string, settings: EncryptionSettings, location: string): Promise<Buffer> {
  const kek = await deriveKek(passphrase, settings.kdf);
  try {
    const key = open(kek, aadFor(repoId), Buffer.from(settings.wrappedKey, 'base64'));
    if (key.length !== KEY_BYTES) throw new Error('bad key length');
    return key;
  } catch {
    throw new PgkeepError('PASSPHRASE', `the passphrase does not unlock the repository at ${location}`, {
      hint: 'check PGKEEP_PASSPHRASE, PGKEEP_PASSPHRASE_FILE or --passphrase-file; nothing was read or written',
    });
  }
}
