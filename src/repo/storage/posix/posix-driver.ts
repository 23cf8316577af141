/**
 * The posix storage driver: a repository in a local (or mounted) directory. Each object is one
 * file at <root>/<key>; directories are 0700 and files 0600. Every write is published atomically
 * (temp file, fsync, rename or link, fsync of the directory), so readers and crashes never see a
 * partial object.
 */
import { promises as fsp, createReadStream, createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { ByteRange, ObjectInfo, StorageDriver, TemporaryObject } from '../driver.js';
import { TEMP_PREFIX, validateKey, validatePrefix } from '../keys.js';
import { validateRange } from '../range.js';
import { discardTemp, openTemp, publishIfAbsent, publishReplace, type Owner } from './atomic-file.js';
import { ioError, isMissing, notFound } from './fs-errors.js';
import { checkUser, ownerForWrites } from './repo-owner.js';
import { walkKeys, walkTemporary } from './walk.js';

export class PosixDriver implements StorageDriver {
  readonly location: string;
  /** Absolute path of the repository directory. */
  readonly root: string;

  /**
   * When root writes into a repository that belongs to another user (typically postgres, whose
   * archive_command also writes there), new files and directories are given to that user, so
   * the two never lock each other out with root-owned 0600 files (the rule: repo-owner.ts).
   */
  private get owner(): Owner | undefined {
    return this.explicitOwner ?? ownerForWrites(this.root);
  }

  private readonly explicitOwner: Owner | undefined;
  private rootClaimed = false;

  /** `owner`: make a new repository this user's (repo init --owner, as root). */
  constructor(root: string, opts: { owner?: Owner } = {}) {
    this.root = resolve(root);
    this.location = this.root;
    this.explicitOwner = checkUser(this.root, opts.owner);
  }

  /**
   * A temp file next to `path`, owned as the rule says. With an explicit owner (repo init
   * --owner) the repository directory itself is given to that user at the first write, after
   * `repo init` checked that the location is free — never to a directory it then refuses.
   */
  private async openTemp(path: string) {
    if (this.explicitOwner && !this.rootClaimed) {
      this.rootClaimed = true;
      await fsp.chown(this.root, this.explicitOwner.uid, this.explicitOwner.gid).catch((e: unknown) => {
        if (!isMissing(e)) throw e; // a new directory is created with the owner by ensureDir
      });
    }
    return openTemp(path, this.owner);
  }

  /** Absolute file path of an object. */
  pathOf(key: string): string {
    validateKey(key);
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, data: Buffer | Uint8Array): Promise<void> {
    const path = this.pathOf(key);
    try {
      const tmp = await this.openTemp(path);
      try {
        await tmp.handle.writeFile(data);
      } catch (e) {
        await discardTemp(tmp);
        throw e;
      }
      await publishReplace(tmp, path);
    } catch (e) {
      throw ioError(this.location, 'write', key, e);
    }
  }

  async putStream(key: string, data: Readable, signal?: AbortSignal): Promise<void> {
    const path = this.pathOf(key);
    try {
      signal?.throwIfAborted();
      const tmp = await this.openTemp(path);
      try {
        // The write stream borrows the handle's fd; pipeline applies backpressure end to end.
        const out = createWriteStream('', { fd: tmp.handle.fd, autoClose: false });
        await pipeline(data, out, signal ? { signal } : {});
      } catch (e) {
        data.destroy();
        await discardTemp(tmp);
        throw e;
      }
      await publishReplace(tmp, path);
    } catch (e) {
      if (signal?.aborted) throw signal.reason ?? e; // the caller's abort, as S3 reports it too
      throw ioError(this.location, 'write', key, e);
    }
  }

  async createIfAbsent(key: string, data: Buffer | Uint8Array): Promise<boolean> {
    const path = this.pathOf(key);
    try {
      // Cheap early answer; the link() below is what makes it atomic.
      if (await this.stat(key)) return false;
      const tmp = await this.openTemp(path);
      try {
        await tmp.handle.writeFile(data);
      } catch (e) {
        await discardTemp(tmp);
        throw e;
      }
      return await publishIfAbsent(tmp, path);
    } catch (e) {
      throw ioError(this.location, 'create', key, e);
    }
  }

  /** Open an object for reading: NOT_FOUND when it does not exist. */
  private async openForRead(key: string): Promise<FileHandle> {
    try {
      return await fsp.open(this.pathOf(key), 'r');
    } catch (e) {
      throw isMissing(e) ? notFound(this.location, key, e) : ioError(this.location, 'read', key, e);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    if (range) validateRange(range);
    const handle = await this.openForRead(key);
    try {
      if (!range) return await handle.readFile();
      const buf = Buffer.allocUnsafe(range.length);
      let filled = 0;
      while (filled < range.length) {
        const { bytesRead } = await handle.read(buf, filled, range.length - filled, range.offset + filled);
        if (bytesRead === 0) break; // end of file: return what exists
        filled += bytesRead;
      }
      return filled === range.length ? buf : buf.subarray(0, filled);
    } catch (e) {
      throw ioError(this.location, 'read', key, e);
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    if (range) validateRange(range);
    // Open now so a missing object fails here, not later on the stream.
    const handle = await this.openForRead(key);
    if (range && range.length === 0) {
      await handle.close();
      return Readable.from([]);
    }
    return createReadStream('', {
      fd: handle,
      autoClose: true,
      ...(range ? { start: range.offset, end: range.offset + range.length - 1 } : {}),
    });
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const path = this.pathOf(key);
    try {
      const st = await fsp.stat(path);
      if (!st.isFile()) return undefined;
      return { key, size: st.size, mtimeMs: st.mtimeMs };
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw ioError(this.location, 'stat', key, e);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix);
    try {
      yield* walkKeys(this.root, prefix);
    } catch (e) {
      throw ioError(this.location, 'list', `${prefix}*`, e);
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await fsp.unlink(path);
    } catch (e) {
      if (isMissing(e)) return;
      throw ioError(this.location, 'delete', key, e);
    }
  }

  async *listTemporary(): AsyncIterable<TemporaryObject> {
    try {
      yield* walkTemporary(this.root);
    } catch (e) {
      throw ioError(this.location, 'list', `${TEMP_PREFIX}*`, e);
    }
  }

  async deleteTemporary(t: TemporaryObject): Promise<void> {
    const parts = t.key.split('/');
    if (!parts[parts.length - 1]!.startsWith(TEMP_PREFIX) || parts.some((p) => p === '' || p === '.' || p === '..')) {
      throw ioError(this.location, 'delete', t.key, new Error('not a temporary file of this repository'));
    }
    try {
      await fsp.unlink(join(this.root, ...parts));
    } catch (e) {
      if (isMissing(e)) return;
      throw ioError(this.location, 'delete', t.key, e);
    }
  }

  async close(): Promise<void> {
    // Nothing is kept open between calls.
  }
}
