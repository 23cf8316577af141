/**
 * AES-256-GCM with a fresh random 96-bit nonce per message. A sealed message is
 * nonce (12 bytes) || ciphertext || tag (16 bytes); `aad` is authenticated but not stored.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const KEY_BYTES = 32;
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

/**
 * Encrypt `parts` (concatenated) into `out` at `at`, which must have room for
 * SEAL_OVERHEAD + total length bytes. Returns the number of bytes written.
 */
export function sealInto(key: Uint8Array, aad: Uint8Array, plain: Uint8Array, out: Buffer, at: number): number {
  const nonce = randomBytes(NONCE_BYTES);
  nonce.copy(out, at);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  let pos = at + NONCE_BYTES;
  const body = c.update(plain);
  body.copy(out, pos);
  pos += body.length;
  const fin = c.final();
  fin.copy(out, pos);
  pos += fin.length;
  c.getAuthTag().copy(out, pos);
  return pos + TAG_BYTES - at;
}

export function seal(key: Uint8Array, aad: Uint8Array, plain: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(plain.length + SEAL_OVERHEAD);
  sealInto(key, aad, plain, out, 0);
  return out;
}

/** Decrypt and authenticate; throws a plain Error when the tag does not match. */
export function open(key: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Buffer {
  if (sealed.length < SEAL_OVERHEAD) throw new Error('encrypted data is shorter than its nonce and tag');
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const d = createDecipheriv('aes-256-gcm', key, nonce);
  d.setAAD(aad);
  d.setAuthTag(tag);
  const body = d.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES));
  try {
    const fin = d.final();
    return fin.length ? Buffer.concat([body, fin]) : body;
  } catch {
    throw new Error('authentication failed (wrong key or damaged data)');
  }
}

export function randomKey(): Buffer {
  return randomBytes(KEY_BYTES);
}
