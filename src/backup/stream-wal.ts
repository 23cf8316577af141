/**
 * The WAL of a standalone `stream` backup, received over a second replication connection while
 * the base backup runs, and stored as whole segments pg_wal/<name>.
 *
 * Keeping the WAL: before BASE_BACKUP starts, a TEMPORARY physical slot with RESERVE_WAL is
 * created on this connection. Its restart point is the last checkpoint's redo, which is before
 * the backup's start, so the server keeps every segment from there until the slot goes away with
 * the connection — even if we fall behind or a checkpoint runs. Streaming starts at the start
 * LSN's segment as soon as the server reported the start position, and ends once everything up to
 * the stop LSN has arrived. The server switches segments at the backup's end, so the last segment
 * normally arrives whole; if it did not, its tail after the stop LSN is zeros (recovery reads
 * that as the end of WAL, past the point the backup needs).
 */
import { PgkeepError } from '../errors.js';
import type { FileEntry, SnapshotWriter } from '../repo/index.js';
import { segmentFloor } from '../pg/lsn.js';
import { historyFileName, walFileNameForLsn } from '../pg/wal-name.js';
import { ReplicationClient, type WalStream } from '../pg/protocol/index.js';
import type { ClusterSettings } from '../config/types.js';

export class WalCollector {
  private rc?: ReplicationClient;
  private stream?: WalStream;
  private loop?: Promise<void>;
  private stopLsn?: bigint;
  private segStart = 0n;
  private seg?: Buffer;
  private filled = 0;
  private stored = 0;
  private timeline = 0;
  private failure?: unknown;
  slotName?: string;
  /** Owner given to the stored WAL files (the server's, learnt from the base backup's files). */
  owner: Pick<FileEntry, 'uid' | 'gid' | 'owner' | 'group'> = {};

  constructor(
    private readonly writer: SnapshotWriter,
    private readonly segSize: number,
    private readonly signal?: AbortSignal,
  ) {}

  /** Connect and reserve WAL (call before BASE_BACKUP). Returns false when no slot could be created. */
  async prepare(settings: ClusterSettings): Promise<boolean> {
    this.rc = await ReplicationClient.connect(settings, { signal: this.signal, applicationName: 'pgkeep backup wal' });
    const name = `pgkeep_wal_${process.pid}_${Date.now().toString(36)}`.slice(0, 63);
    try {
      await this.rc.createPhysicalSlot(name, { reserveWal: true, temporary: true });
      this.slotName = name;
      return true;
    } catch {
      return false;
    }
  }

  /** Start streaming from the segment holding `startLsn`. */
  async start(startLsn: bigint, timeline: number): Promise<void> {
    const rc = this.rc!;
    this.timeline = timeline;
    if (timeline > 1) {
      const h = await rc.timelineHistory(timeline);
      await this.writer.addFile(
        {
          path: `pg_wal/${historyFileName(timeline)}`,
          type: 'file',
          mode: 0o600,
          size: h.content.length,
          mtimeMs: Date.now(),
          ...this.owner,
        },
        h.content,
      );
    }
    this.segStart = segmentFloor(startLsn, this.segSize);
    this.stream = await rc.startReplication({
      ...(this.slotName ? { slot: this.slotName } : {}),
      startLsn: this.segStart,
      timeline,
      signal: this.signal,
    });
    this.loop = this.receive().catch((e) => {
      this.failure = e;
    });
  }

  private async receive(): Promise<void> {
    for await (const ev of this.stream!) {
      if (ev.type === 'xlogdata') await this.take(ev.start, ev.data);
      else if (ev.type === 'end-of-timeline') break;
      if (this.stopLsn !== undefined && this.received >= this.stopLsn) break;
    }
  }

  private get received(): bigint {
    return this.segStart + BigInt(this.filled);
  }

  private async take(start: bigint, data: Buffer): Promise<void> {
    let pos = start;
    let off = 0;
    while (off < data.length) {
      if (!this.seg) this.seg = Buffer.alloc(this.segSize);
      if (pos !== this.received) {
        throw new PgkeepError('INTERNAL', `WAL stream jumped from ${this.received} to ${pos}`);
      }
      const n = Math.min(data.length - off, this.segSize - this.filled);
      data.copy(this.seg, this.filled, off, off + n);
      this.filled += n;
      off += n;
      pos += BigInt(n);
      if (this.filled === this.segSize) await this.flushSegment();
    }
  }

  private async flushSegment(): Promise<void> {
    const seg = this.seg!;
    const name = walFileNameForLsn(this.timeline, this.segStart, this.segSize);
    await this.writer.addFile(
      { path: `pg_wal/${name}`, type: 'file', mode: 0o600, size: seg.length, mtimeMs: Date.now(), ...this.owner },
      seg,
    );
    this.stored++;
    this.segStart += BigInt(this.segSize);
    this.seg = undefined;
    this.filled = 0;
  }

  /** Wait until everything up to `stopLsn` arrived, store the last segment, end streaming. */
  async finish(stopLsn: bigint): Promise<number> {
    this.stopLsn = stopLsn;
    if (this.received >= stopLsn && this.stream && !this.stream.ending) await this.stream.endCopy();
    await this.loop;
    if (this.failure) throw this.failure;
    if (this.received < stopLsn) {
      throw new PgkeepError('CONNECTION', `the WAL stream ended at ${this.received} before the backup's stop position`);
    }
    if (this.filled > 0) await this.flushSegment(); // zeros after the stop position
    if (this.stream && !this.stream.ending) await this.stream.endCopy().catch(() => {});
    return this.stored;
  }

  async close(): Promise<void> {
    await this.rc?.close();
    this.rc = undefined;
  }
}
