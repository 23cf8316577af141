/**
 * Byte layouts of blobs (inside packs) and whole objects (manifests, pack indexes, WAL objects).
 * Pure functions, no I/O: they run in the blob workers and on the main thread.
 *
 * Blob:    codec id (1) | flags (1) | body
 * Object:  "PKO1" (4) | codec id (1) | flags (1) | body [| SHA-256 of the plaintext (32) when not encrypted]
 * flags bit 0 = encrypted. Body = compressed bytes, or when encrypted
 * nonce (12) | AES-256-GCM(compressed bytes) | tag (16) with the header bytes (+ the object's
 * logical name for objects) as additional authenticated data.
 */
import { createHash } from 'node:crypto';
import {
  CODEC_IDS,
  codecName,
  compressBound,
  compressInto,
  compressSync,
  decompressInto,
  decompressSync,
  type Codec,
  type CodecName,
} from './codec.js';
import { open, SEAL_OVERHEAD, sealInto } from './cipher.js';

export const BLOB_HEADER_BYTES = 2;
export const OBJECT_MAGIC = Buffer.from('PKO1', 'latin1');
export const OBJECT_HEADER_BYTES = 6;
const FLAG_ENCRYPTED = 1;
const HASH_BYTES = 32;

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Compress then (with a key) encrypt. The result owns its whole ArrayBuffer (transferable). */
export function encodeBlob(codec: Codec, key: Uint8Array | undefined, plain: Uint8Array): Buffer {
  const compressed = compressSync(codec, plain);
  const out = Buffer.allocUnsafeSlow(BLOB_HEADER_BYTES + compressed.length + (key ? SEAL_OVERHEAD : 0));
  out[0] = CODEC_IDS[codec.name];
  out[1] = key ? FLAG_ENCRYPTED : 0;
  if (key) sealInto(key, out.subarray(0, BLOB_HEADER_BYTES), compressed, out, BLOB_HEADER_BYTES);
  else out.set(compressed, BLOB_HEADER_BYTES);
  return out;
}

/** Largest blob a plaintext of n bytes can become. */
export function blobBound(n: number): number {
  return BLOB_HEADER_BYTES + compressBound(n) + SEAL_OVERHEAD;
}

/**
 * encodeBlob into `out` (blobBound(plain.length) bytes); `scratch` (compressBound bytes) holds
 * the compressed bytes before encryption. Returns the blob's length. Allocates nothing for zstd
 * without encryption.
 */
export function encodeBlobInto(codec: Codec, key: Uint8Array | undefined, plain: Uint8Array, out: Buffer, scratch: Buffer): number {
  out[0] = CODEC_IDS[codec.name];
  out[1] = key ? FLAG_ENCRYPTED : 0;
  if (!key) return BLOB_HEADER_BYTES + compressInto(codec, plain, out.subarray(BLOB_HEADER_BYTES));
  const n = compressInto(codec, plain, scratch);
  return BLOB_HEADER_BYTES + sealInto(key, out.subarray(0, BLOB_HEADER_BYTES), scratch.subarray(0, n), out, BLOB_HEADER_BYTES);
}

/** Check a blob's header and authenticate/decrypt it: its codec and compressed body. */
function openBlob(key: Uint8Array | undefined, blob: Uint8Array): { name: CodecName; body: Uint8Array } {
  if (blob.length < BLOB_HEADER_BYTES) throw new Error('blob is shorter than its header');
  const name = codecName(blob[0]!);
  if (!name) throw new Error(`unknown codec id ${blob[0]} in blob header`);
  const flags = blob[1]!;
  if (flags & ~FLAG_ENCRYPTED) throw new Error(`unknown flags ${flags} in blob header`);
  let body = blob.subarray(BLOB_HEADER_BYTES);
  if (flags & FLAG_ENCRYPTED) {
    if (!key) throw new Error('blob is encrypted but the repository has no key');
    body = open(key, blob.subarray(0, BLOB_HEADER_BYTES), body);
  } else if (key) {
    throw new Error('blob is not encrypted in an encrypted repository');
  }
  return { name, body };
}

/** decodeBlob into `out`; returns the plaintext length. */
export function decodeBlobInto(key: Uint8Array | undefined, blob: Uint8Array, out: Uint8Array): number {
  const { name, body } = openBlob(key, blob);
  try {
    return decompressInto(name, body, out);
  } catch (e) {
    throw new Error(`${name} decompression failed: ${(e as Error).message}`);
  }
}

/** Authenticate, decrypt and decompress a blob; throws a plain Error naming what failed. */
export function decodeBlob(key: Uint8Array | undefined, blob: Uint8Array): Uint8Array {
  const { name, body } = openBlob(key, blob);
  try {
    return decompressSync(name, body);
  } catch (e) {
    throw new Error(`${name} decompression failed: ${(e as Error).message}`);
  }
}

/** Encode a whole object; `name` (its logical name) is authenticated when encrypting. */
export function encodeObject(codec: Codec, key: Uint8Array | undefined, name: string, plain: Uint8Array): Buffer {
  const compressed = compressSync(codec, plain);
  const header = Buffer.alloc(OBJECT_HEADER_BYTES);
  OBJECT_MAGIC.copy(header, 0);
  header[4] = CODEC_IDS[codec.name];
  header[5] = key ? FLAG_ENCRYPTED : 0;
  if (key) {
    const out = Buffer.allocUnsafe(OBJECT_HEADER_BYTES + compressed.length + SEAL_OVERHEAD);
    header.copy(out, 0);
    sealInto(key, objectAad(header, name), compressed, out, OBJECT_HEADER_BYTES);
    return out;
  }
  return Buffer.concat([header, compressed, sha256(plain)]);
}

/** Decode a whole object; throws a plain Error naming what failed. */
export function decodeObject(key: Uint8Array | undefined, name: string, data: Uint8Array): Buffer {
  if (data.length < OBJECT_HEADER_BYTES || !OBJECT_MAGIC.equals(data.subarray(0, 4))) {
    throw new Error('not a pgkeep object (bad magic)');
  }
  const codec = codecName(data[4]!);
  if (!codec) throw new Error(`unknown codec id ${data[4]} in object header`);
  const flags = data[5]!;
  if (flags & ~FLAG_ENCRYPTED) throw new Error(`unknown flags ${flags} in object header`);
  const header = data.subarray(0, OBJECT_HEADER_BYTES);
  if (flags & FLAG_ENCRYPTED) {
    if (!key) throw new Error('object is encrypted but the repository has no key');
    const compressed = open(key, objectAad(header, name), data.subarray(OBJECT_HEADER_BYTES));
    return toBuffer(decompress(codec, compressed));
  }
  if (key) throw new Error('object is not encrypted in an encrypted repository');
  if (data.length < OBJECT_HEADER_BYTES + HASH_BYTES) throw new Error('object is truncated');
  const plain = toBuffer(decompress(codec, data.subarray(OBJECT_HEADER_BYTES, data.length - HASH_BYTES)));
  if (!sha256(plain).equals(data.subarray(data.length - HASH_BYTES))) throw new Error('SHA-256 mismatch');
  return plain;
}

function decompress(codec: ReturnType<typeof codecName> & string, body: Uint8Array): Uint8Array {
  try {
    return decompressSync(codec, body);
  } catch (e) {
    throw new Error(`${codec} decompression failed: ${(e as Error).message}`);
  }
}

function objectAad(header: Uint8Array, name: string): Buffer {
  return Buffer.concat([header, Buffer.from(name, 'utf8')]);
}

function toBuffer(d: Uint8Array): Buffer {
  return Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}
