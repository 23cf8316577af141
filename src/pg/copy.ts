/**
 * The COPY sub-protocol over a node-postgres Client, natively: a Submittable per direction.
 *
 * - COPY ... TO STDOUT: `copyOut(client, sql)` returns a Readable of the raw COPY bytes. The
 *   server sends one CopyData message per row; they are copied (the parser reuses its buffer)
 *   and coalesced into larger chunks. When the consumer is slow the socket is paused, so memory
 *   stays bounded. The row count comes from the CommandComplete tag ("COPY n").
 * - COPY ... FROM STDIN: `copyIn(client, sql, source)` writes CopyData frames itself, waiting for
 *   the socket's 'drain' (and pausing the source) when the kernel buffer is full; CopyDone at
 *   the end, CopyFail when the source fails or the signal fires.
 *
 * node-postgres hands a Submittable the messages through handleXxx methods; it does not forward
 * CopyOutResponse/CopyDone, which this module does not need (CopyData, CommandComplete and
 * ReadyForQuery are enough). After an ErrorResponse the client drops the active query, so
 * handleError is the last call in that case.
 */
import { Readable } from 'node:stream';
import type pg from 'pg';

/** What a COPY reports while it runs. `rows` is known only for text/CSV exports. */
export interface CopyProgress {
  bytes: number;
  rows?: number;
}

export interface CopyResult {
  /** Rows copied, from the CommandComplete tag. */
  rows: number;
  /** Bytes of COPY data transferred (the file's size). */
  bytes: number;
}

export interface CopyOptions {
  signal?: AbortSignal;
  /** Called at most every `progressEveryBytes` bytes (default 1 MiB) and once at the end. */
  onProgress?: (p: CopyProgress) => void;
  progressEveryBytes?: number;
}

/** Minimal view of node-postgres's internal Connection that this module relies on. */
interface PgConnection {
  stream: NodeJS.WritableStream & { pause(): unknown; resume(): unknown; cork(): void; uncork(): void; writable: boolean };
  query(text: string): void;
}

interface TagMessage {
  text?: string;
  command?: string;
  rowCount?: number | null;
}

/** "COPY 42" -> 42 (undefined for other tags). */
export function parseCopyTag(tag: string | undefined): number | undefined {
  const m = /^COPY (\d+)$/.exec(tag ?? '');
  return m ? Number(m[1]) : undefined;
}

// ---- frames (pure) --------------------------------------------------------------------------

/** Header of a CopyData message ('d', Int32 length including itself) for `n` payload bytes. */
export function copyDataHeader(n: number): Buffer {
  const b = Buffer.allocUnsafe(5);
  b[0] = 0x64; // 'd'
  b.writeInt32BE(n + 4, 1);
  return b;
}

/** CopyDone ('c'). */
export function copyDoneFrame(): Buffer {
  return Buffer.from([0x63, 0, 0, 0, 4]);
}

/** CopyFail ('f', message as a C string). */
export function copyFailFrame(message: string): Buffer {
  const text = Buffer.from(message.replace(/\0/g, ' '), 'utf8');
  const b = Buffer.alloc(1 + 4 + text.length + 1);
  b[0] = 0x66; // 'f'
  b.writeInt32BE(4 + text.length + 1, 1);
  text.copy(b, 5);
  return b;
}

// ---- COPY TO STDOUT ---------------------------------------------------------------------------

const BATCH = 256 * 1024;

/** A Readable of COPY bytes that is also the Submittable node-postgres runs. */
export class CopyOutStream extends Readable {
  /** Rows copied; set when the server has confirmed the end of the COPY. */
  rows?: number;
  bytes = 0;
  /** CopyData messages seen (one per row in text and CSV format, plus a header line). */
  messages = 0;
  private connection?: PgConnection;
  private socketPaused = false;
  private finished = false;
  private batch: Buffer = Buffer.allocUnsafe(BATCH);
  private batchLen = 0;
  private lastReport = 0;

  constructor(
    readonly text: string,
    private readonly opts: CopyOptions = {},
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  submit(connection: PgConnection): void {
    this.connection = connection;
    connection.query(this.text);
  }

  handleCopyInResponse(connection: PgConnection): void {
    connection.stream.write(copyFailFrame('pgkeep expected COPY ... TO STDOUT'));
  }

  handleCopyData(msg: { chunk: Buffer }): void {
    if (this.destroyed) return;
    const chunk = msg.chunk;
    this.messages++;
    this.bytes += chunk.length;
    if (chunk.length >= BATCH) {
      this.flushBatch();
      this.pushChunk(Buffer.from(chunk));
    } else {
      if (this.batchLen + chunk.length > BATCH) this.flushBatch();
      chunk.copy(this.batch, this.batchLen);
      this.batchLen += chunk.length;
    }
    this.report(false);
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleEmptyQuery(): void {}

  handleCommandComplete(msg: TagMessage): void {
    this.rows = parseCopyTag(msg.text) ?? msg.rowCount ?? undefined;
  }

  handleError(err: Error): void {
    this.finished = true;
    this.resumeSocket();
    this.destroy(err);
  }

  handleReadyForQuery(): void {
    if (this.finished) return;
    this.finished = true;
    this.flushBatch();
    this.report(true);
    if (this.rows === undefined && !this.destroyed) {
      this.destroy(new Error(`not a COPY ... TO STDOUT statement: ${this.text.slice(0, 80)}`));
      return;
    }
    this.push(null);
  }

  override _read(): void {
    this.resumeSocket();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    // A consumer that gives up mid-COPY: let the socket flow so the client does not stall; the
    // caller should close the connection (the server then aborts the COPY).
    this.resumeSocket();
    cb(err);
  }

  private pushChunk(buf: Buffer): void {
    if (!this.push(buf) && this.connection && !this.socketPaused) {
      this.socketPaused = true;
      this.connection.stream.pause();
    }
  }

  private flushBatch(): void {
    if (this.batchLen === 0) return;
    const out = this.batch.subarray(0, this.batchLen);
    this.batch = Buffer.allocUnsafe(BATCH);
    this.batchLen = 0;
    this.pushChunk(out);
  }

  private resumeSocket(): void {
    if (this.socketPaused && this.connection) {
      this.socketPaused = false;
      this.connection.stream.resume();
    }
  }

  private report(final: boolean): void {
    const every = this.opts.progressEveryBytes ?? 1024 * 1024;
    if (!this.opts.onProgress) return;
    if (!final && this.bytes - this.lastReport < every) return;
    this.lastReport = this.bytes;
    this.opts.onProgress({ bytes: this.bytes, rows: final ? this.rows : undefined });
  }
}

/**
 * Start `sql` (a COPY ... TO STDOUT) on `client`; the returned stream yields its bytes.
 * When the signal fires the stream is destroyed with the signal's reason; close the client then.
 */
export function copyOut(client: pg.Client, sql: string, opts: CopyOptions = {}): CopyOutStream {
  const stream = new CopyOutStream(sql, opts);
  if (opts.signal) {
    const onAbort = () => stream.destroy(abortReason(opts.signal!));
    if (opts.signal.aborted) queueMicrotask(onAbort);
    else {
      opts.signal.addEventListener('abort', onAbort, { once: true });
      stream.once('close', () => opts.signal!.removeEventListener('abort', onAbort));
    }
  }
  client.query(stream as unknown as pg.Submittable);
  return stream;
}

// ---- COPY FROM STDIN --------------------------------------------------------------------------

class CopyInQuery {
  private connection?: PgConnection;
  private state: 'queued' | 'copying' | 'sent' | 'done' = 'queued';
  private rows?: number;
  private bytes = 0;
  private lastReport = 0;
  private sourceError?: Error;
  private abortError?: Error;
  readonly promise: Promise<CopyResult>;
  private resolve!: (r: CopyResult) => void;
  private reject!: (e: Error) => void;
  private cleanup: (() => void)[] = [];

  constructor(
    readonly text: string,
    private readonly source: Readable,
    private readonly opts: CopyOptions,
  ) {
    this.promise = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    // Never leave an unhandled rejection on the source before the COPY starts.
    source.on('error', (e) => this.onSourceError(e));
  }

  submit(connection: PgConnection): void {
    this.connection = connection;
    connection.query(this.text);
  }

  /** Abort: CopyFail while copying (the server rolls the COPY back). */
  abort(reason: Error): void {
    this.abortError = reason;
    if (this.state === 'copying') this.fail(reason.message);
  }

  handleCopyInResponse(connection: PgConnection): void {
    this.state = 'copying';
    if (this.abortError) return this.fail(this.abortError.message);
    if (this.sourceError) return this.fail(this.sourceError.message);
    const socket = connection.stream;
    const source = this.source;
    const onData = (chunk: Buffer | string) => {
      if (this.state !== 'copying') return;
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (buf.length === 0) return;
      this.bytes += buf.length;
      socket.cork();
      socket.write(copyDataHeader(buf.length));
      const ok = socket.write(buf);
      socket.uncork();
      this.report(false);
      if (!ok) {
        source.pause();
        socket.once('drain', () => {
          if (this.state === 'copying') source.resume();
        });
      }
    };
    const onEnd = () => {
      if (this.state !== 'copying') return;
      this.state = 'sent';
      socket.write(copyDoneFrame());
    };
    source.on('data', onData);
    source.once('end', onEnd);
    this.cleanup.push(() => {
      source.off('data', onData);
      source.off('end', onEnd);
    });
    source.resume();
  }

  handleCopyData(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleEmptyQuery(): void {}

  handleCommandComplete(msg: TagMessage): void {
    this.rows = parseCopyTag(msg.text) ?? msg.rowCount ?? undefined;
  }

  handleError(err: Error): void {
    // The server ignores further CopyData after an error: stop reading the source.
    this.finish();
    this.reject(this.sourceError ?? this.abortError ?? err);
  }

  handleReadyForQuery(): void {
    this.finish();
    if (this.rows === undefined) {
      this.reject(new Error(`not a COPY ... FROM STDIN statement: ${this.text.slice(0, 80)}`));
      return;
    }
    this.report(true);
    this.resolve({ rows: this.rows, bytes: this.bytes });
  }

  private onSourceError(e: Error): void {
    if (this.sourceError) return;
    this.sourceError = e;
    if (this.state === 'copying') this.fail(`source failed: ${e.message}`);
  }

  private fail(message: string): void {
    this.state = 'sent';
    this.connection?.stream.write(copyFailFrame(message));
  }

  private finish(): void {
    this.state = 'done';
    for (const c of this.cleanup.splice(0)) c();
    this.source.pause();
  }

  private report(final: boolean): void {
    const every = this.opts.progressEveryBytes ?? 1024 * 1024;
    if (!this.opts.onProgress) return;
    if (!final && this.bytes - this.lastReport < every) return;
    this.lastReport = this.bytes;
    this.opts.onProgress({ bytes: this.bytes, rows: final ? this.rows : undefined });
  }
}

/**
 * Run `sql` (a COPY ... FROM STDIN) on `client`, feeding it `source`. Resolves with the row
 * count once the server has committed the COPY (inside the caller's transaction, if any).
 * Rejects with the server's error (its `where` says which line failed), the source's error,
 * or the signal's reason.
 */
export async function copyIn(client: pg.Client, sql: string, source: Readable, opts: CopyOptions = {}): Promise<CopyResult> {
  source.pause();
  const q = new CopyInQuery(sql, source, opts);
  const onAbort = () => q.abort(abortReason(opts.signal!));
  if (opts.signal?.aborted) q.abort(abortReason(opts.signal));
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  client.query(q as unknown as pg.Submittable);
  try {
    return await q.promise;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

function abortReason(signal: AbortSignal): Error {
  const r = signal.reason as unknown;
  return r instanceof Error ? r : new Error('aborted');
}
