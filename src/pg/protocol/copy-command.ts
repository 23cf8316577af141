/**
 * A node-postgres "Submittable": runs one replication command with the simple query protocol
 * and hands over, in order, its result sets, the start of CopyOut/CopyBoth, each CopyData
 * payload, the server's CopyDone, and the end (ReadyForQuery or an error).
 *
 * node-postgres forwards RowDescription/DataRow/CommandComplete/CopyData/ErrorResponse/
 * ReadyForQuery to the active query; CopyOutResponse ('H'), CopyBothResponse ('W', which
 * pg-protocol calls `replicationStart`) and CopyDone ('c') it only emits on the connection, so
 * we listen there while the command runs. CopyData chunks are views on pg-protocol's reused
 * buffer: a handler that keeps bytes must copy them.
 */
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

export interface ResultSet {
  columns: string[];
  /** Text values as the server sent them (null for SQL NULL). */
  rows: (string | null)[][];
}

/** The bits of node-postgres' Connection we use. */
export interface PgConnection extends EventEmitter {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  stream: Socket;
}

export interface CopyCommandHandlers {
  onResultSet?(rs: ResultSet): void;
  onCopyStart?(mode: 'out' | 'both'): void;
  /** A CopyData payload (a view: copy what you keep). Throwing aborts the connection. */
  onCopyData?(payload: Buffer): void;
  /** The server sent CopyDone. */
  onCopyDone?(): void;
  /** Exactly once: after ReadyForQuery (err undefined) or on the first failure. */
  onEnd(err?: Error): void;
}

export class CopyCommand {
  readonly text: string;
  private readonly h: CopyCommandHandlers;
  private connection?: PgConnection;
  private current?: ResultSet;
  private ended = false;
  private readonly listeners: [string, (...args: unknown[]) => void][];

  constructor(text: string, handlers: CopyCommandHandlers) {
    this.text = text;
    this.h = handlers;
    this.listeners = [
      [
        'copyOutResponse',
        () =>
          this.guard(() => {
            this.flushResultSet();
            this.h.onCopyStart?.('out');
          }),
      ],
      [
        'replicationStart',
        () =>
          this.guard(() => {
            this.flushResultSet();
            this.h.onCopyStart?.('both');
          }),
      ],
      ['copyDone', () => this.guard(() => this.h.onCopyDone?.())],
    ];
  }

  /** The connection the command runs on (set once submitted). */
  get conn(): PgConnection | undefined {
    return this.connection;
  }

  // ---- Submittable interface (called by pg.Client) ----

  submit(connection: PgConnection): Error | undefined {
    // aborted before node-postgres got to send it: tell the client, which then skips it
    if (this.ended) return new Error(`${this.text.split(' ')[0]} was cancelled before it was sent`);
    this.connection = connection;
    for (const [ev, fn] of this.listeners) connection.on(ev, fn);
    connection.query(this.text);
    return undefined;
  }

  handleRowDescription(msg: { fields: { name: string }[] }): void {
    this.guard(() => {
      this.flushResultSet();
      this.current = { columns: msg.fields.map((f) => f.name), rows: [] };
    });
  }

  handleDataRow(msg: { fields: (string | null)[] }): void {
    if (this.current) this.current.rows.push(msg.fields.slice());
  }

  handleCommandComplete(): void {
    this.guard(() => this.flushResultSet());
  }

  handleEmptyQuery(): void {}

  handlePortalSuspended(): void {}

  handleCopyInResponse(connection: PgConnection): void {
    // Never expected on a replication command; refuse politely so the server ends the COPY.
    (connection as unknown as { sendCopyFail(msg: string): void }).sendCopyFail('pgkeep does not send COPY IN data');
  }

  handleCopyData(msg: { chunk: Buffer }): void {
    this.guard(() => this.h.onCopyData?.(msg.chunk));
  }

  handleError(err: Error): void {
    this.finish(err);
  }

  handleReadyForQuery(): void {
    this.guard(() => this.flushResultSet());
    this.finish();
  }

  // ----

  /** Fail the command from our side: the connection is closed (the only way to stop a COPY OUT). */
  abort(err: Error): void {
    if (this.ended) return;
    this.connection?.stream.destroy();
    this.finish(err);
  }

  private flushResultSet(): void {
    const rs = this.current;
    this.current = undefined;
    if (rs) this.h.onResultSet?.(rs);
  }

  private guard(fn: () => void): void {
    if (this.ended) return;
    try {
      fn();
    } catch (e) {
      this.abort(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private finish(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    if (this.connection) for (const [ev, fn] of this.listeners) this.connection.removeListener(ev, fn);
    this.h.onEnd(err);
  }
}
