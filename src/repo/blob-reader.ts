/**
 * Reading blobs back from packs: fetch a byte range, and decode it (authenticate, decrypt,
 * decompress, compare SHA-256) either here (small blobs) or in the worker pool (file data).
 * Nothing that fails a check is ever returned.
 */
import { closeSync, read } from 'node:fs';
import type { StorageDriver } from './storage/driver.js';
import { PgkeepError } from '../errors.js';
import { decodeBlob, sha256 } from './blob.js';
import { packKey } from './pack-format.js';
import { damagedBlob, type BlobPlace } from './integrity.js';
import { acquirePackFile, releasePackFile } from './pack-file-cache.js';
import { BufferPool } from './buffer-pool.js';

const readAt = (fd: number, buf: Buffer, at: number, length: number, position: number): Promise<number> =>
  new Promise((resolve, reject) => read(fd, buf, at, length, position, (e, n) => (e ? reject(e) : resolve(n))));
import type { DecodeItem, DecodeToFile, WorkerPool } from './worker-pool.js';

/** Fetch `length` bytes at `offset` of a pack; a missing or short pack is DATA_INTEGRITY. */
export async function fetchPackRange(driver: StorageDriver, place: BlobPlace & { length: number }): Promise<Buffer> {
  let buf: Buffer;
  try {
    buf = await driver.get(packKey(place.pack), { offset: place.offset, length: place.length });
  } catch (e) {
    if (e instanceof PgkeepError && e.code === 'NOT_FOUND') throw damagedBlob(place, 'the pack is missing');
    throw e;
  }
  if (buf.length < place.length) {
    throw damagedBlob(place, `the pack is truncated (${place.length} bytes expected, ${buf.length} available)`);
  }
  return buf;
}

/** Decode and verify on the calling thread (manifest parts, pack indexes: small). */
export function decodeVerified(key: Buffer | undefined, blob: Buffer, expectSha256: string, place: BlobPlace): Buffer {
  let plain: Uint8Array;
  try {
    plain = decodeBlob(key, blob);
  } catch (e) {
    throw damagedBlob(place, (e as Error).message);
  }
  if (sha256(plain).toString('hex') !== expectSha256) throw damagedBlob(place, 'SHA-256 of the plaintext does not match');
  return Buffer.isBuffer(plain) ? plain : Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
}

/**
 * Decode and verify in a worker. The plaintext lands in a new buffer of `rawLength` bytes
 * (returned), or with `discard` is only verified (repo check).
 */
export async function decodeInPool(
  pool: WorkerPool,
  blob: Buffer,
  expectSha256: string,
  rawLength: number,
  place: BlobPlace,
  discard = false,
): Promise<Buffer> {
  let data = blob;
  if (blob.byteOffset !== 0 || blob.byteLength !== blob.buffer.byteLength) {
    data = Buffer.allocUnsafeSlow(blob.length); // a slice of a larger read: copy so it can be transferred
    blob.copy(data);
  }
  const out = discard ? undefined : Buffer.allocUnsafeSlow(rawLength);
  const transfer = [data.buffer as ArrayBuffer, ...(out ? [out.buffer as ArrayBuffer] : [])];
  const reply = await pool.run({ op: 'decode', data, out, rawLength, expect: expectSha256 }, transfer);
  if (reply.error) {
    if (reply.fatal) throw new PgkeepError('INTERNAL', `blob worker failed: ${reply.error}`);
    throw damagedBlob(place, reply.error);
  }
  if (discard) return Buffer.alloc(0);
  const b = reply.blob!;
  return Buffer.from(b.buffer, b.byteOffset, reply.size!);
}

/**
 * Decode several adjacent blobs (read with one range request) in one worker task; returns their
 * plaintexts concatenated. `places[i]` names blob i in errors.
 */
export async function decodeManyInPool(pool: WorkerPool, raw: Buffer, items: DecodeItem[], places: BlobPlace[]): Promise<Buffer> {
  let data = raw;
  if (raw.byteOffset !== 0 || raw.byteLength !== raw.buffer.byteLength) {
    data = Buffer.allocUnsafeSlow(raw.length);
    raw.copy(data);
  }
  const out = Buffer.allocUnsafeSlow(items.reduce((n, it) => n + it.rawLength, 0));
  const reply = await pool.run({ op: 'decodeMany', data, out, items }, [data.buffer as ArrayBuffer, out.buffer as ArrayBuffer]);
  if (reply.error) {
    if (reply.fatal || reply.failed === undefined) throw new PgkeepError('INTERNAL', `blob worker failed: ${reply.error}`);
    throw damagedBlob(places[reply.failed]!, reply.error);
  }
  const b = reply.blob!;
  return Buffer.from(b.buffer, b.byteOffset, reply.size!);
}

/**
 * Decode the blobs of one range of a pack in a worker, which writes their plaintexts into open
 * files: `files[k]` takes the next `items` items, written back to back into its `fd` (or the file
 * the worker creates) at `position` (restore: one file's run of adjacent blobs, or a batch of
 * small files stored side by side). Returns the bytes written and the descriptors of the files
 * created (the caller's to close; on a failure they are closed here). With `localPath` (the pack's file in a posix repository)
 * the range is read from a pack descriptor held open (one read, no open and close per range); a
 * range that cannot be read whole that way is read through the driver, so a missing or short
 * pack is named as always. The reads stay here, in libuv's pool, ahead of the workers: a worker
 * never waits for the disk while there is data to decode. A failed write is the error the write
 * gave (with its errno code), not DATA_INTEGRITY.
 */
export async function decodeRangeToFile(
  driver: StorageDriver,
  pool: WorkerPool,
  range: BlobPlace & { length: number; localPath?: string },
  items: DecodeItem[],
  places: BlobPlace[],
  files: DecodeToFile['files'],
): Promise<{ written: number; opened: number[] }> {
  let data = range.localPath !== undefined ? await readFromPackFile(range.localPath, range.offset, range.length) : undefined;
  data ??= await fetchPackRange(driver, range);
  if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) {
    data = Buffer.from(data); // a slice of a larger buffer: copy so it can be transferred
  }
  const reply = await pool.run({ op: 'decodeToFile', data, items, files }, [data.buffer as ArrayBuffer]);
  readBuffers.give(reply.input); // the worker hands the range's buffer back
  const opened = reply.opened ?? [];
  if (reply.error) {
    for (const fd of opened) closeSync(fd); // the files it created before the failure: theirs to close is ours
    if (reply.ioCode) throw Object.assign(new Error(reply.error), { code: reply.ioCode, syscall: 'write' });
    if (reply.fatal || reply.failed === undefined) throw new PgkeepError('INTERNAL', `blob worker failed: ${reply.error}`);
    throw damagedBlob(places[reply.failed]!, reply.error);
  }
  return { written: reply.size!, opened };
}

/**
 * Buffers of range reads, recycled (they travel to a worker and back): a restore reads thousands
 * of ranges, and a new 1 MiB buffer for each kept the main thread's garbage collector busy
 * (measured: 0.3 s of a 5 s restore). A range shorter than a buffer uses its beginning.
 */
const READ_BUFFER_BYTES = 1024 * 1024;
const readBuffers = new BufferPool(READ_BUFFER_BYTES, 16);

/** `length` bytes at `offset` of a pack file through a held descriptor, or undefined when they cannot all be read. */
async function readFromPackFile(path: string, offset: number, length: number): Promise<Buffer | undefined> {
  const packFd = acquirePackFile(path);
  if (packFd === undefined) return undefined;
  try {
    const buf = length <= READ_BUFFER_BYTES ? readBuffers.take(READ_BUFFER_BYTES) : Buffer.allocUnsafeSlow(length);
    let got = 0;
    while (got < length) {
      const n = await readAt(packFd, buf, got, length - got, offset + got);
      if (n === 0) return undefined;
      got += n;
    }
    return buf;
  } catch {
    return undefined;
  } finally {
    releasePackFile(path);
  }
}
