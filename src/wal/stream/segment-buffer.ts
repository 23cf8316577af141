/**
 * One WAL segment being assembled from XLogData messages, in one buffer of wal_segment_size bytes
 * that is reused for every segment (so a long-running receiver holds at most one segment).
 *
 *   buf.begin(tli, segNo)            start a segment (nothing received yet)
 *   used = buf.append(lsn, bytes)    take the bytes that belong to this segment; returns how many
 *   buf.complete                     every byte received: store buf.contents(), then begin the next
 *
 * Bytes must arrive in order; bytes before the current position (a server restarting at a page
 * start) are skipped, a hole is an error. Pure: no I/O.
 */
import { PgkeepError } from '../../errors.js';
import { type Lsn, formatLsn, segmentOfLsn, segmentStartLsn } from '../../pg/lsn.js';
import { walFileName } from '../../pg/wal-name.js';

export class SegmentBuffer {
  readonly segSize: number;
  private buf?: Buffer;
  private _timeline = 0;
  private _segNo = -1n;
  private _filled = 0;

  constructor(segSize: number) {
    this.segSize = segSize;
  }

  /** Start assembling segment `segNo` of timeline `tli` (discarding anything held). */
  begin(tli: number, segNo: bigint): void {
    this.buf ??= Buffer.alloc(this.segSize);
    this._timeline = tli;
    this._segNo = segNo;
    this._filled = 0;
  }

  /** Start the segment holding `lsn`; the position becomes that segment's start. */
  beginAt(tli: number, lsn: Lsn): void {
    this.begin(tli, segmentOfLsn(lsn, this.segSize));
  }

  get started(): boolean {
    return this._segNo >= 0n;
  }

  get timeline(): number {
    return this._timeline;
  }

  get segNo(): bigint {
    return this._segNo;
  }

  /** Bytes received from the segment's start. */
  get filled(): number {
    return this._filled;
  }

  get complete(): boolean {
    return this.started && this._filled === this.segSize;
  }

  /** First LSN of the segment. */
  get startLsn(): Lsn {
    return segmentStartLsn(this._segNo, this.segSize);
  }

  /** LSN just after the last byte received (where the next byte belongs). */
  get position(): Lsn {
    return this.startLsn + BigInt(this._filled);
  }

  /** The segment's file name, e.g. 000000010000000000000003. */
  get fileName(): string {
    return walFileName(this._timeline, this._segNo, this.segSize);
  }

  /**
   * Take the bytes of `data` (whose first byte is at `lsn`) that belong to this segment. Returns
   * how many bytes of `data` were used (including skipped bytes already held); the caller feeds
   * the rest to the next segment once this one is complete.
   */
  append(lsn: Lsn, data: Uint8Array): number {
    if (!this.started || !this.buf) throw new PgkeepError('INTERNAL', 'SegmentBuffer.append before begin');
    const pos = this.position;
    if (lsn > pos) {
      throw new PgkeepError(
        'DATA_INTEGRITY',
        `the server sent WAL from ${formatLsn(lsn)}, but the next byte expected was at ${formatLsn(pos)}`,
        {
          hint: 'this is a hole in the stream; the receiver restarts the segment when it reconnects',
          details: { expected: formatLsn(pos), received: formatLsn(lsn) },
        },
      );
    }
    const skip = Number(pos - lsn);
    if (skip >= data.length) return data.length;
    const take = Math.min(data.length - skip, this.segSize - this._filled);
    this.buf.set(data.subarray(skip, skip + take), this._filled);
    this._filled += take;
    return skip + take;
  }

  /** The whole segment (valid when complete). A view on the reused buffer: store it before begin(). */
  contents(): Buffer {
    if (!this.complete || !this.buf) throw new PgkeepError('INTERNAL', `segment ${this.fileName} is not complete`);
    return this.buf;
  }

  /**
   * The segment as received so far, padded with zeros to the full segment size (the form
   * pg_receivewal gives its .partial files, so it can be renamed and read by PostgreSQL).
   * A view on the reused buffer: store it before the next append.
   */
  partialContents(): Buffer {
    if (!this.started || !this.buf) throw new PgkeepError('INTERNAL', 'no segment is being received');
    this.buf.fill(0, this._filled);
    return this.buf;
  }
}
