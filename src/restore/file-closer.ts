/**
 * The end of a freshly written file: its owner, mode and mtime are set on the open descriptor,
 * then it is fsynced (when asked) and closed. A writer hands its descriptor over and goes on with
 * the next file while the disk takes the flush; at most `syncs` fsyncs run at once (each holds a
 * thread of libuv's pool of 4, so reads and opens never queue behind flushes) and at most
 * `pending` files wait. drain() resolves once every file handed over is durable and closed, or
 * rejects with the first failure (every descriptor is closed either way).
 *
 * The metadata calls are synchronous on purpose: on a local file system they take microseconds,
 * while each trip through libuv's pool wakes two threads — on a busy 2-core host that costs
 * milliseconds per call, and a cluster has thousands of small files (measured: blob workers idle
 * a third of a restore, waiting for the next file's open/chown/chmod/utimes/close).
 */
import { closeSync, fchmodSync, fchownSync, fsync, futimesSync } from 'node:fs';
import type { FileRecord } from '../repo/index.js';
import type { OwnerResolver } from './ownership.js';

/** Owner (when root), then mode, then mtime (last: writing changes it), on an open regular file. */
export function setAttributesOnFd(fd: number, record: FileRecord, owners: OwnerResolver): void {
  const owner = owners.ownerOf(record);
  if (owner) fchownSync(fd, owner.uid, owner.gid);
  fchmodSync(fd, record.mode & 0o7777);
  if (Number.isFinite(record.mtimeMs)) futimesSync(fd, record.mtimeMs / 1000, record.mtimeMs / 1000);
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    /* already failing: the first error is the one reported */
  }
}

export class FileCloser {
  private running = 0;
  private readonly queue: number[] = [];
  private failure: unknown;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly sync: boolean,
    private readonly syncs = 2,
    private readonly pending = 64,
  ) {}

  /**
   * Give `fd` (written, attributes set) to be fsynced and closed; waits while too many are
   * pending. Once a flush has failed, closes `fd` and throws that failure.
   */
  async close(fd: number): Promise<void> {
    if (!this.sync) {
      closeSync(fd);
      return;
    }
    while (this.queue.length + this.running >= this.pending) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failure !== undefined) {
      closeQuietly(fd);
      throw this.failure; // a flush failed (EIO, ENOSPC): stop writing
    }
    this.queue.push(fd);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.syncs && this.queue.length > 0) {
      const fd = this.queue.shift()!;
      this.running++;
      fsync(fd, (e) => {
        this.running--;
        if (e) {
          this.failure ??= e;
          closeQuietly(fd);
        } else {
          try {
            closeSync(fd);
          } catch (err) {
            this.failure ??= err;
          }
        }
        this.pump();
        for (const w of this.waiters.splice(0)) w();
      });
    }
  }

  /** Every file handed over is fsynced and closed; throws the first failure. */
  async drain(): Promise<void> {
    while (this.queue.length + this.running > 0) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failure !== undefined) throw this.failure;
  }
}
