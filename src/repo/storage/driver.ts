/**
 * The storage contract every repository backend implements (posix directory, S3). Keys are
 * '/'-separated relative paths such as "packs/ab/<id>" or "snapshots/main/<id>.json.zst".
 * Drivers know nothing about packs, snapshots or PostgreSQL.
 *
 * Rules every driver follows (src/repo/storage/conformance.test.ts checks them):
 * - Keys are validated by keys.ts (no absolute keys, no '.'/'..'/empty segments, no control
 *   characters); a bad key is a bug (PgkeepError INTERNAL). Because the posix driver maps keys
 *   to files, a key and another key below it ("a/b" and "a/b/c") cannot both exist.
 * - Missing objects are PgkeepError NOT_FOUND; other failures are REPOSITORY with a hint.
 * - list() is in lexical order of the keys' UTF-8 bytes (S3's order) and never shows
 *   temporary or partial objects.
 * - An aborted putStream rejects with the signal's reason and leaves no object.
 */
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  key: string;
  size: number;
  /** Last modification time (ms since epoch). */
  mtimeMs: number;
}

export interface ByteRange {
  /** First byte (inclusive). */
  offset: number;
  /** Number of bytes. */
  length: number;
}

/**
 * A temporary object a writer left, never visible through list(): a posix `.pgkeep-tmp-*` file,
 * or an S3 multipart upload never completed.
 */
export interface TemporaryObject {
  /** Where it is, relative to the repository root (for messages and deleteTemporary). */
  key: string;
  /** Bytes it holds (S3: the parts uploaded). */
  size: number;
  /** posix: last write (a live writer keeps it fresh); S3: when the upload was initiated. */
  mtimeMs: number;
  /** S3 multipart upload id. */
  uploadId?: string;
}

export interface StorageDriver {
  /** Human-readable location for messages, e.g. "/var/backups/pgkeep" or "s3://bucket/prefix". */
  readonly location: string;

  /** Store a whole object, replacing any existing one; visible only once complete (atomic publish). */
  put(key: string, data: Buffer | Uint8Array): Promise<void>;
  /** Store an object from a stream (multipart for large ones); memory stays bounded. */
  putStream(key: string, data: Readable, signal?: AbortSignal): Promise<void>;
  /**
   * Store only if no object with this key exists. Returns false (and changes nothing) when it
   * already exists. Used for locks and for write-once objects (WAL segments).
   */
  createIfAbsent(key: string, data: Buffer | Uint8Array): Promise<boolean>;

  /**
   * Read a whole object or a byte range. Throws PgkeepError NOT_FOUND when absent. A range that
   * runs past the end of the object returns only the bytes that exist (possibly none): callers
   * that need exactly `length` bytes check the length (a truncated pack is a DATA_INTEGRITY issue).
   */
  get(key: string, range?: ByteRange): Promise<Buffer>;
  /** Stream an object or a byte range (same range rules as get). Throws NOT_FOUND when absent. */
  getStream(key: string, range?: ByteRange): Promise<Readable>;

  /** Size and mtime, or undefined when the object does not exist. */
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with prefix (recursive), in lexical key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Delete an object; deleting a missing object is not an error. */
  delete(key: string): Promise<void>;

  /**
   * Temporary objects of writers, running or killed (posix: `.pgkeep-tmp-*` files in any
   * directory; S3: incomplete multipart uploads under the prefix).
   */
  listTemporary?(): AsyncIterable<TemporaryObject>;
  /** Remove one temporary object found by listTemporary; a vanished one is not an error. */
  deleteTemporary?(t: TemporaryObject): Promise<void>;

  /** Release sockets/handles. */
  close(): Promise<void>;
}
