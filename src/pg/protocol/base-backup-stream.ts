/**
 * BASE_BACKUP as an async iterable of events, with the tar archives parsed on the fly and each
 * file's content handed over as a Readable. Memory stays bounded: when more than `highWaterMark`
 * bytes wait for the consumer, the socket is paused until it catches up. Both framings give the
 * same events (base-backup-dialect.ts):
 *
 * PostgreSQL 15+ (TARGET 'client'): result set (start LSN, timeline), result set (tablespaces),
 * CopyOutResponse, CopyData 'n'/'d'/'p'.../'m'/'d'..., CopyDone, result set (end LSN, timeline),
 * CommandComplete, ReadyForQuery.
 *
 * PostgreSQL 13/14: the same two result sets, then for each row of the tablespace result set, in
 * its order (the data directory, the row without an oid, last), a CopyOutResponse, raw tar bytes
 * as CopyData, CopyDone; then, when asked for, one more CopyOut with backup_manifest; then the end
 * result set. No progress messages (the consumer counts bytes itself).
 */
import type { Readable } from 'node:stream';
import { PgkeepError } from '../../errors.js';
import { type Lsn, parseLsn } from '../lsn.js';
import { AsyncQueue, FlowControl } from './async-queue.js';
import { parseBaseBackupCopyData, protocolError } from './base-backup-messages.js';
import type { BaseBackupDialect } from './base-backup-dialect.js';
import { CopyCommand, type ResultSet } from './copy-command.js';
import { FileContent } from './file-content.js';
import { replicationCommandError } from './replication-errors.js';
import { createTarParser, type TarEntry, type TarEvent, type TarParser } from './tar-parser.js';

export interface BackupTablespace {
  oid: number;
  location: string;
  /** The server's size estimate (only with PROGRESS). */
  sizeBytes?: number;
}

export type BackupEvent =
  | {
      type: 'start';
      startLsn: Lsn;
      timeline: number;
      /** Tablespaces other than pg_default/pg_global, in the order their archives come. */
      tablespaces: BackupTablespace[];
      /** The server's estimate of the whole backup (only with PROGRESS). */
      totalBytes?: number;
    }
  /** A new tar archive begins: `<oid>.tar` for a tablespace, `base.tar` for the data directory. */
  | { type: 'archive'; name: string; tablespaceOid?: number; location?: string }
  | {
      type: 'file';
      /** The tar header (path relative to the archive's root). */
      entry: TarEntry;
      archive: string;
      tablespaceOid?: number;
      /** Path relative to the data directory, as in backup_manifest (`pg_tblspc/<oid>/...`). */
      path: string;
      /** The file's bytes (ended at once for directories, links and empty files). */
      content: Readable;
    }
  | { type: 'archive-end'; name: string }
  /** Bytes the server has sent so far (consecutive reports the consumer has not taken yet are merged). */
  | { type: 'progress'; bytes: number }
  /** The whole backup_manifest (when requested). */
  | { type: 'manifest'; content: Buffer }
  | { type: 'end'; stopLsn: Lsn; timeline: number };

export interface BaseBackupStreamOptions {
  /** Bytes allowed to wait for the consumer before the socket is paused (default 8 MiB). */
  highWaterMark?: number;
  signal?: AbortSignal;
}

/** A row of the tablespace result set: one archive each (no oid: the data directory). */
interface ArchiveRow {
  oid?: number;
  location: string;
}

/** Cost charged for a queued event without content, so a flood of empty files also pauses. */
const EVENT_COST = 512;

export class BaseBackupStream implements AsyncIterable<BackupEvent> {
  readonly command: CopyCommand;
  private readonly queue: AsyncQueue<BackupEvent>;
  private readonly flow: FlowControl;
  private readonly dialect: BaseBackupDialect;
  private resultSets = 0;
  private start?: { startLsn: Lsn; timeline: number };
  private started = false;
  private tablespaces: BackupTablespace[] = [];
  private archiveRows: ArchiveRow[] = [];
  /** 13/14: CopyOuts begun so far (one per archive row, then the manifest's). */
  private copies = 0;
  private totalBytes?: number;
  private archive?: { name: string; tablespaceOid?: number; tar: TarParser };
  private content?: FileContent;
  private manifest?: Buffer[];
  private copyDone = false;
  private ended = false;
  private iterated = false;
  private readonly signal?: AbortSignal;
  private readonly onAbort = (): void => {
    this.command.abort(new PgkeepError('INTERRUPTED', 'base backup interrupted'));
  };

  /** `onFinish` runs once when the command is over (err set if it failed). */
  constructor(
    text: string,
    options: BaseBackupStreamOptions & { dialect?: BaseBackupDialect },
    private readonly onFinish: (err?: Error) => void,
  ) {
    this.signal = options.signal;
    this.dialect = options.dialect ?? 'current';
    this.flow = new FlowControl({
      high: options.highWaterMark ?? 8 * 1024 * 1024,
      pause: () => this.command.conn?.stream.pause(),
      resume: () => this.command.conn?.stream.resume(),
    });
    this.queue = new AsyncQueue<BackupEvent>({
      onTake: (cost) => this.flow.sub(cost),
      onReturn: () => this.command.abort(new PgkeepError('INTERRUPTED', 'base backup abandoned by its consumer')),
    });
    this.command = new CopyCommand(text, {
      onResultSet: (rs) => this.onResultSet(rs),
      onCopyStart: () => this.onCopyStart(),
      onCopyData: (p) => this.onCopyData(p),
      onCopyDone: () => this.onCopyDone(),
      onEnd: (err) => this.onEnd(err),
    });
    if (this.signal?.aborted) queueMicrotask(this.onAbort);
    else this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<BackupEvent> {
    if (this.iterated) throw new PgkeepError('INTERNAL', 'a base backup stream can be iterated only once');
    this.iterated = true;
    return this.queue;
  }

  private emit(ev: BackupEvent, cost = EVENT_COST): void {
    this.flow.add(cost);
    this.queue.push(ev, cost);
  }

  /** Start position, tablespaces, end position: in that order in both framings. */
  private onResultSet(rs: ResultSet): void {
    this.resultSets++;
    if (this.resultSets === 1) {
      this.start = readPosition(rs, 'start');
    } else if (this.resultSets === 2) {
      // tablespaces: spcoid, spclocation, size (kB, with PROGRESS); the data directory has no oid
      for (const row of rs.rows) {
        const size = row[2] == null ? undefined : Number(row[2]) * 1024;
        if (size !== undefined) this.totalBytes = (this.totalBytes ?? 0) + size;
        if (row[0] == null) {
          this.archiveRows.push({ location: '' });
          continue;
        }
        const ts = { oid: Number(row[0]), location: row[1] ?? '' };
        this.archiveRows.push(ts);
        this.tablespaces.push({ ...ts, ...(size !== undefined ? { sizeBytes: size } : {}) });
      }
    } else {
      if (!this.copyDone)
        throw protocolError(
          `BASE_BACKUP ended after ${Math.min(this.copies, this.archiveRows.length)} of ${this.archiveRows.length} archives`,
        );
      const end = readPosition(rs, 'end');
      this.emit({ type: 'end', stopLsn: end.startLsn, timeline: end.timeline });
    }
  }

  private onCopyStart(): void {
    if (!this.start) throw protocolError('BASE_BACKUP sent data before its start position');
    if (!this.started) {
      this.started = true;
      this.emit({
        type: 'start',
        startLsn: this.start.startLsn,
        timeline: this.start.timeline,
        tablespaces: this.tablespaces,
        ...(this.totalBytes !== undefined ? { totalBytes: this.totalBytes } : {}),
      });
    }
    if (this.dialect === 'legacy') this.legacyCopyStart();
  }

  /** 13/14: each CopyOut is the archive of the next tablespace row, and the one after them the manifest. */
  private legacyCopyStart(): void {
    const row = this.archiveRows[this.copies++];
    if (row) this.beginArchive(row.oid === undefined ? 'base.tar' : `${row.oid}.tar`, row.location);
    else if (this.copies === this.archiveRows.length + 1) this.manifest = [];
    else throw protocolError(`BASE_BACKUP sent more CopyOut streams than its ${this.archiveRows.length} archives and the manifest`);
  }

  private beginArchive(name: string, location: string): void {
    this.endArchive();
    const oidMatch = /^(\d+)\.tar$/.exec(name);
    const tablespaceOid = oidMatch ? Number(oidMatch[1]) : undefined;
    this.archive = { name, ...(tablespaceOid !== undefined ? { tablespaceOid } : {}), tar: createTarParser() };
    this.emit({
      type: 'archive',
      name,
      ...(tablespaceOid !== undefined ? { tablespaceOid } : {}),
      ...(location ? { location } : {}),
    });
  }

  private onCopyData(payload: Buffer): void {
    if (this.dialect === 'legacy') {
      this.onData(payload);
      return;
    }
    const m = parseBaseBackupCopyData(payload);
    switch (m.type) {
      case 'new-archive':
        this.beginArchive(m.name, m.location);
        break;
      case 'data':
        this.onData(m.data);
        break;
      case 'progress': {
        const ev: BackupEvent = { type: 'progress', bytes: Number(m.bytes) };
        if (this.queue.peekLast()?.type === 'progress') this.queue.replaceLast(ev);
        else this.emit(ev, 64);
        break;
      }
      case 'manifest':
        this.endArchive();
        this.manifest = [];
        break;
    }
  }

  /** Bytes of the current archive or of the manifest (a view: copied before being kept). */
  private onData(data: Buffer): void {
    if (this.manifest) this.manifest.push(Buffer.from(data));
    else if (this.archive) this.onTar(this.archive.tar.push(data));
    else throw protocolError('archive data before any archive started');
  }

  private onTar(events: TarEvent[]): void {
    const archive = this.archive!;
    for (const ev of events) {
      switch (ev.type) {
        case 'entry': {
          const content = new FileContent(this.flow);
          const path = archive.tablespaceOid !== undefined ? `pg_tblspc/${archive.tablespaceOid}/${ev.entry.path}` : ev.entry.path;
          this.content = content;
          this.emit({
            type: 'file',
            entry: ev.entry,
            archive: archive.name,
            ...(archive.tablespaceOid !== undefined ? { tablespaceOid: archive.tablespaceOid } : {}),
            path,
            content,
          });
          break;
        }
        case 'data':
          // the payload is a view on node-postgres' reused buffer: copy before keeping
          this.content!.enqueue(Buffer.from(ev.data));
          break;
        case 'entry-end':
          this.content!.finish();
          this.content = undefined;
          break;
        case 'end':
          break;
      }
    }
  }

  private endArchive(): void {
    const a = this.archive;
    if (!a) return;
    this.onTar(a.tar.end());
    this.archive = undefined;
    this.emit({ type: 'archive-end', name: a.name });
  }

  private onCopyDone(): void {
    this.endArchive();
    // 13/14: done once every archive has come (the manifest's CopyOut may follow)
    this.copyDone = this.dialect === 'current' || this.copies >= this.archiveRows.length;
    if (this.manifest) {
      this.emit({ type: 'manifest', content: Buffer.concat(this.manifest) });
      this.manifest = undefined;
    }
  }

  private onEnd(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.flow.release();
    if (!err && (!this.copyDone || this.resultSets < 3)) {
      err = protocolError('BASE_BACKUP ended before the backup was complete');
    }
    if (err) {
      const e = replicationCommandError(err, 'BASE_BACKUP');
      // a reader that listens for errors gets this one; otherwise end the stream quietly (an
      // 'error' nobody listens to would crash the process) and let the iteration report it
      const c = this.content;
      if (c) c.listenerCount('error') > 0 ? c.destroy(e) : c.destroy();
      this.queue.fail(e);
    } else {
      this.queue.close();
    }
    this.onFinish(err);
  }
}

function readPosition(rs: ResultSet, what: string): { startLsn: Lsn; timeline: number } {
  const row = rs.rows[0];
  if (!row || row[0] == null || row[1] == null) throw protocolError(`BASE_BACKUP sent no ${what} position`);
  return { startLsn: parseLsn(row[0]), timeline: Number(row[1]) };
}
