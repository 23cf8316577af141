/**
 * START_REPLICATION ... PHYSICAL as an async iterable of WAL events (CopyBoth: we receive
 * XLogData/keepalives and send standby status updates on the same connection).
 *
 * - Every XLogData payload is copied before it is queued (node-postgres reuses its buffer).
 * - Backpressure: above `highWaterMark` queued bytes the socket is paused.
 * - The position last given to sendStatus() is re-sent every `statusIntervalMs` and whenever
 *   the server asks for a reply, so a slow consumer does not hit wal_sender_timeout. Report
 *   `flush` only for WAL that is durably stored: the server frees WAL (and a slot) up to it.
 * - When the server ends the timeline (it sends CopyDone), we answer CopyDone and yield
 *   `end-of-timeline` with the next timeline and where it starts; the iteration then ends.
 *   endCopy() ends the stream from our side the same way (without that event).
 */
import { PgkeepError } from '../../errors.js';
import { type Lsn, parseLsn } from '../lsn.js';
import { AsyncQueue, FlowControl } from './async-queue.js';
import { protocolError } from './base-backup-messages.js';
import { CopyCommand, type ResultSet } from './copy-command.js';
import { replicationCommandError } from './replication-errors.js';
import { type StandbyStatus, buildStandbyStatusUpdate, parseReplicationCopyData } from './replication-messages.js';

export type WalEvent =
  | {
      type: 'xlogdata';
      /** LSN of data[0]. */
      start: Lsn;
      /** The server's WAL end when it sent this. */
      end: Lsn;
      /** Server clock, microseconds since 2000-01-01 UTC. */
      sendTime: bigint;
      /** Our own copy of the bytes. */
      data: Buffer;
    }
  | { type: 'keepalive'; end: Lsn; time: bigint; replyRequested: boolean }
  | { type: 'end-of-timeline'; nextTimeline: number; nextTimelineStartLsn: Lsn };

export interface WalStreamOptions {
  /** Bytes of WAL allowed to wait for the consumer before the socket is paused (default 32 MiB). */
  highWaterMark?: number;
  /** Re-send the last status this often (default 10000 ms; 0 = never). */
  statusIntervalMs?: number;
  signal?: AbortSignal;
}

export class WalStream implements AsyncIterable<WalEvent> {
  readonly command: CopyCommand;
  private readonly queue: AsyncQueue<WalEvent>;
  private readonly flow: FlowControl;
  private readonly started: Promise<void>;
  private readonly finished: Promise<void>;
  private resolveStarted!: () => void;
  private rejectStarted!: (e: unknown) => void;
  private resolveFinished!: () => void;
  private inCopy = false;
  private sentCopyDone = false;
  private serverCopyDone = false;
  private cancelled = false;
  private ended = false;
  private iterated = false;
  private received: Lsn = 0n;
  private status: StandbyStatus = { write: 0n, flush: 0n, apply: 0n };
  private timer?: NodeJS.Timeout;
  private readonly statusIntervalMs: number;
  private readonly signal?: AbortSignal;
  private readonly onAbort = (): void => {
    this.command.abort(new PgkeepError('INTERRUPTED', 'WAL streaming interrupted'));
  };

  constructor(
    text: string,
    options: WalStreamOptions,
    private readonly onFinish: (err?: Error) => void,
  ) {
    this.signal = options.signal;
    this.statusIntervalMs = options.statusIntervalMs ?? 10_000;
    this.started = new Promise((resolve, reject) => {
      this.resolveStarted = resolve;
      this.rejectStarted = reject;
    });
    this.started.catch(() => {});
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
    this.flow = new FlowControl({
      high: options.highWaterMark ?? 32 * 1024 * 1024,
      pause: () => this.command.conn?.stream.pause(),
      resume: () => this.command.conn?.stream.resume(),
    });
    this.queue = new AsyncQueue<WalEvent>({
      onTake: (cost) => this.flow.sub(cost),
      onReturn: () => {
        // the consumer stopped: end the COPY politely and drop what still arrives
        this.cancelled = true;
        this.flow.release();
        this.endCopy().catch(() => {});
      },
    });
    this.command = new CopyCommand(text, {
      onResultSet: (rs) => this.onResultSet(rs),
      onCopyStart: (mode) => this.onCopyStart(mode),
      onCopyData: (p) => this.onCopyData(p),
      onCopyDone: () => this.onCopyDone(),
      onEnd: (err) => this.onEnd(err),
    });
    if (this.signal?.aborted) queueMicrotask(this.onAbort);
    else this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Resolves once the server entered CopyBoth; rejects with the server's refusal. */
  whenStarted(): Promise<void> {
    return this.started;
  }

  /** True once CopyDone was sent or the command is over: only the server's last messages remain. */
  get ending(): boolean {
    return this.sentCopyDone || this.ended;
  }

  /** Resolves when the command is over (ReadyForQuery, or failure). */
  whenFinished(): Promise<void> {
    return this.finished;
  }

  /** Highest WAL position received so far (end of the last XLogData). */
  get receivedLsn(): Lsn {
    return this.received;
  }

  /** The status last given to sendStatus(). */
  get lastStatus(): StandbyStatus {
    return { ...this.status };
  }

  [Symbol.asyncIterator](): AsyncIterator<WalEvent> {
    if (this.iterated) throw new PgkeepError('INTERNAL', 'a WAL stream can be iterated only once');
    this.iterated = true;
    return this.queue;
  }

  /**
   * Tell the server how far we got: write (received), flush (durably stored), apply. Sent at once
   * and remembered for the periodic and requested replies. Ignored once the COPY is over.
   */
  sendStatus(s: StandbyStatus): void {
    this.status = { write: s.write, flush: s.flush, apply: s.apply };
    this.writeStatus(s.replyRequested ?? false);
  }

  /** End streaming from our side; resolves when the server confirmed (ReadyForQuery). */
  async endCopy(): Promise<void> {
    if (this.inCopy && !this.sentCopyDone && !this.ended) {
      this.sentCopyDone = true;
      this.stopTimer();
      this.command.conn?.endCopyFrom();
    }
    await this.finished;
  }

  private writeStatus(replyRequested: boolean): void {
    if (!this.inCopy || this.sentCopyDone || this.ended) return;
    this.command.conn?.sendCopyFromChunk(buildStandbyStatusUpdate({ ...this.status, replyRequested }));
  }

  private onCopyStart(mode: 'out' | 'both'): void {
    if (mode !== 'both') throw protocolError('START_REPLICATION did not start a CopyBoth exchange');
    this.inCopy = true;
    if (this.statusIntervalMs > 0) {
      this.timer = setInterval(() => this.writeStatus(false), this.statusIntervalMs);
      this.timer.unref();
    }
    this.resolveStarted();
  }

  private onCopyData(payload: Buffer): void {
    const m = parseReplicationCopyData(payload);
    if (m.type === 'xlogdata') {
      const end = m.start + BigInt(m.data.length);
      if (end > this.received) this.received = end;
      if (this.cancelled) return;
      const data = Buffer.from(m.data); // copy: the payload is a view on a reused buffer
      this.flow.add(data.length);
      this.queue.push({ type: 'xlogdata', start: m.start, end: m.end, sendTime: m.sendTime, data }, data.length);
    } else {
      if (m.replyRequested) this.writeStatus(false);
      if (!this.cancelled) this.queue.push(m);
    }
  }

  private onCopyDone(): void {
    this.serverCopyDone = true;
    this.stopTimer();
    if (!this.sentCopyDone) {
      this.sentCopyDone = true;
      this.command.conn?.endCopyFrom();
    }
  }

  private onResultSet(rs: ResultSet): void {
    // After the server ended a timeline (or, when asked to start exactly at the end of an old
    // timeline, instead of any COPY): next_tli, next_tli_startpos
    if (this.cancelled || (this.inCopy && !this.serverCopyDone)) return;
    const row = rs.rows[0];
    if (!row || row[0] == null || row[1] == null) return;
    this.queue.push({ type: 'end-of-timeline', nextTimeline: Number(row[0]), nextTimelineStartLsn: parseLsn(row[1]) });
  }

  private onEnd(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.stopTimer();
    this.signal?.removeEventListener('abort', this.onAbort);
    this.flow.release();
    if (err) {
      const e = replicationCommandError(err, 'START_REPLICATION');
      this.rejectStarted(e);
      this.queue.fail(e);
    } else {
      // the command may also end without CopyBoth (the timeline already ended at that position)
      this.resolveStarted();
      this.queue.close();
    }
    this.resolveFinished();
    this.onFinish(err);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
