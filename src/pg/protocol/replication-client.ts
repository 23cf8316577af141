/**
 * A physical replication connection (a walsender) and the commands pgkeep uses on it:
 * IDENTIFY_SYSTEM, SHOW, READ_REPLICATION_SLOT, CREATE/DROP_REPLICATION_SLOT, TIMELINE_HISTORY,
 * BASE_BACKUP and START_REPLICATION. One command at a time.
 *
 *   const rc = await ReplicationClient.connect(settings, { signal });
 *   const id = await rc.identifySystem();
 *   for await (const ev of rc.baseBackup({ label: 'nightly', fast: true })) ...
 *   await rc.close();
 *
 * Authentication, TLS and .pgpass come from the shared connection settings (connect()).
 */
import type pg from 'pg';
import type { ClusterSettings } from '../../config/types.js';
import { PgkeepError } from '../../errors.js';
import { connect } from '../connect.js';
import { type Lsn, parseLsn } from '../lsn.js';
import { baseBackupDialect } from './base-backup-dialect.js';
import { BaseBackupStream, type BaseBackupStreamOptions } from './base-backup-stream.js';
import type { PgConnection } from './copy-command.js';
import {
  type BaseBackupOptions,
  type StartReplicationOptions,
  buildBaseBackupCommand,
  buildCreatePhysicalSlotCommand,
  buildDropSlotCommand,
  buildShowCommand,
  buildStartReplicationCommand,
  buildTimelineHistoryCommand,
  checkSlotName,
  slotCommandDialect,
} from './replication-commands.js';
import { replicationCommandError } from './replication-errors.js';
import { WalStream, type WalStreamOptions } from './wal-stream.js';

export interface SystemIdentity {
  /** The cluster's system identifier (a uint64, as decimal text). */
  systemId: string;
  timeline: number;
  /** Current WAL flush position. */
  xlogpos: Lsn;
  /** Database of a logical-replication connection; null for physical ones. */
  dbname: string | null;
}

export interface ReplicationSlotInfo {
  slotType: 'physical' | 'logical';
  /** Null when the slot has never reserved WAL. */
  restartLsn: Lsn | null;
  restartTimeline: number | null;
}

export interface ReplicationConnectOptions {
  signal?: AbortSignal;
  /** application_name when the settings name none (default "pgkeep"). */
  applicationName?: string;
  env?: NodeJS.ProcessEnv;
}

export type BaseBackupRequest = BaseBackupOptions & BaseBackupStreamOptions;
export type StartReplicationRequest = StartReplicationOptions & WalStreamOptions;

/** Returns values as the server sent them (text), without node-postgres' type parsing. */
const RAW_TYPES = { getTypeParser: () => (v: string) => v };

export class ReplicationClient {
  readonly client: pg.Client;
  /** server_version_num, e.g. 150014. */
  readonly serverVersionNum: number;
  private busy?: string;
  /** The WAL stream running (or finishing) on this connection. */
  private stream?: WalStream;
  private closed = false;

  private constructor(client: pg.Client, serverVersionNum: number) {
    this.client = client;
    this.serverVersionNum = serverVersionNum;
    client.on('end', () => {
      this.closed = true;
    });
  }

  /** Open a physical replication connection (`replication=true`) with the cluster's settings. */
  static async connect(settings: ClusterSettings, opts: ReplicationConnectOptions = {}): Promise<ReplicationClient> {
    const client = await connect(settings, {
      replication: true,
      signal: opts.signal,
      applicationName: opts.applicationName,
      env: opts.env,
    });
    try {
      return await ReplicationClient.fromClient(client);
    } catch (e) {
      await client.end().catch(() => {});
      throw e;
    }
  }

  /** Wrap a pg.Client that was opened with `replication: 'true'`. */
  static async fromClient(client: pg.Client): Promise<ReplicationClient> {
    const rows = await simple(client, 'SHOW server_version_num');
    const num = Number(rows[0]?.server_version_num);
    if (!Number.isInteger(num)) throw new PgkeepError('CONNECTION', 'the server did not report its version');
    return new ReplicationClient(client, num);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get serverMajor(): number {
    return Math.floor(this.serverVersionNum / 10000);
  }

  /** IDENTIFY_SYSTEM: system identifier, current timeline and WAL position. */
  async identifySystem(): Promise<SystemIdentity> {
    const [row] = await this.run('IDENTIFY_SYSTEM');
    if (!row || row.systemid == null || row.timeline == null || row.xlogpos == null) {
      throw new PgkeepError('CONNECTION', 'IDENTIFY_SYSTEM returned no row');
    }
    return { systemId: row.systemid, timeline: Number(row.timeline), xlogpos: parseLsn(row.xlogpos), dbname: row.dbname ?? null };
  }

  /** The value of a server setting as SHOW prints it ("16MB", "replica"...). */
  async showSetting(name: string): Promise<string> {
    const rows = await this.run(buildShowCommand(name));
    const row = rows[0];
    const value = row ? Object.values(row)[0] : undefined;
    if (value == null) throw new PgkeepError('NOT_FOUND', `the server has no setting "${name}"`);
    return value;
  }

  /** READ_REPLICATION_SLOT (PostgreSQL 15+): null when no such slot exists. */
  async readReplicationSlot(name: string): Promise<ReplicationSlotInfo | null> {
    this.requireMajor(15, 'READ_REPLICATION_SLOT');
    const [row] = await this.run(`READ_REPLICATION_SLOT ${checkSlotName(name)}`);
    if (!row || row.slot_type == null) return null;
    return {
      slotType: row.slot_type === 'logical' ? 'logical' : 'physical',
      restartLsn: row.restart_lsn == null ? null : parseLsn(row.restart_lsn),
      restartTimeline: row.restart_tli == null ? null : Number(row.restart_tli),
    };
  }

  /** CREATE_REPLICATION_SLOT name [TEMPORARY] PHYSICAL, reserving WAL in the server's syntax; returns the reserved position if any. */
  async createPhysicalSlot(
    name: string,
    opts: { reserveWal?: boolean; temporary?: boolean } = {},
  ): Promise<{ slotName: string; consistentPoint: Lsn | null }> {
    const [row] = await this.run(buildCreatePhysicalSlotCommand(name, opts, slotCommandDialect(this.serverVersionNum)));
    return {
      slotName: row?.slot_name ?? name,
      consistentPoint: row?.consistent_point ? parseLsn(row.consistent_point) : null,
    };
  }

  /** DROP_REPLICATION_SLOT name [WAIT]. */
  async dropSlot(name: string, opts: { wait?: boolean } = {}): Promise<void> {
    await this.run(buildDropSlotCommand(name, opts));
  }

  /** TIMELINE_HISTORY tli: the `.history` file of a timeline (tli > 1). */
  async timelineHistory(tli: number): Promise<{ filename: string; content: Buffer }> {
    const [row] = await this.run(buildTimelineHistoryCommand(tli));
    if (!row || row.filename == null || row.content == null) {
      throw new PgkeepError('NOT_FOUND', `the server has no history file for timeline ${tli}`);
    }
    return { filename: row.filename, content: Buffer.from(row.content, 'utf8') };
  }

  /**
   * BASE_BACKUP as events, in the server's dialect (13/14 legacy, 15+ TARGET 'client'; older:
   * UNSUPPORTED). Read (or resume()) each file's `content` before expecting the next event: the
   * stream pauses the server while the consumer is behind. Breaking out of the loop aborts the
   * backup and closes this connection.
   */
  baseBackup(opts: BaseBackupRequest = {}): BaseBackupStream {
    const dialect = baseBackupDialect(this.serverVersionNum);
    const text = buildBaseBackupCommand(opts, dialect);
    this.claim('BASE_BACKUP');
    const stream = new BaseBackupStream(text, { highWaterMark: opts.highWaterMark, signal: opts.signal, dialect }, (err) => {
      this.busy = undefined;
      if (err) this.closeAfterFailure();
    });
    this.client.query(stream.command as unknown as pg.QueryConfig);
    return stream;
  }

  /**
   * START_REPLICATION [SLOT s] PHYSICAL lsn [TIMELINE tli]. Resolves once streaming started (or
   * with a stream that only yields `end-of-timeline` when the position is the end of an old
   * timeline); rejects with the server's refusal (e.g. WAL already removed: NOT_FOUND).
   */
  async startReplication(opts: StartReplicationRequest): Promise<WalStream> {
    const text = buildStartReplicationCommand(opts);
    await this.settle();
    this.claim('START_REPLICATION');
    const stream = new WalStream(
      text,
      { highWaterMark: opts.highWaterMark, statusIntervalMs: opts.statusIntervalMs, signal: opts.signal },
      (err) => {
        this.busy = undefined;
        this.stream = undefined;
        if (err && !(err as { severity?: string }).severity) this.closeAfterFailure();
      },
    );
    this.stream = stream;
    this.client.query(stream.command as unknown as pg.QueryConfig);
    await stream.whenStarted();
    return stream;
  }

  /** Close the connection (aborting any command still running). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.end().catch(() => {});
  }

  /** The underlying node-postgres connection (for tests and diagnostics). */
  get connection(): PgConnection {
    return (this.client as unknown as { connection: PgConnection }).connection;
  }

  private closeAfterFailure(): void {
    // after an aborted COPY the protocol state is unknown: do not reuse the connection
    this.closed = true;
    this.client.end().catch(() => {});
  }

  private requireMajor(major: number, what: string): void {
    if (this.serverMajor < major) {
      throw new PgkeepError('UNSUPPORTED', `${what} needs PostgreSQL ${major} or newer; this server is ${this.serverMajor}`, {
        hint: 'upgrade the server, or use --method local for backups on the database host',
      });
    }
  }

  private claim(what: string): void {
    if (this.closed) throw new PgkeepError('CONNECTION', `cannot run ${what}: the replication connection is closed`);
    if (this.busy) throw new PgkeepError('INTERNAL', `cannot run ${what} while ${this.busy} is running on the same connection`);
    this.busy = what;
  }

  /** Wait for a WAL stream that is already ending (e.g. after `break`) to finish. */
  private async settle(): Promise<void> {
    if (this.stream?.ending) await this.stream.whenFinished();
  }

  private async run(text: string): Promise<Record<string, string | null>[]> {
    await this.settle();
    this.claim(text.split(' ')[0]!);
    try {
      return await simple(this.client, text);
    } catch (e) {
      throw replicationCommandError(e, text.split(' ')[0]!);
    } finally {
      this.busy = undefined;
    }
  }
}

async function simple(client: pg.Client, text: string): Promise<Record<string, string | null>[]> {
  const res = await client.query({ text, types: RAW_TYPES } as pg.QueryConfig);
  return res.rows as Record<string, string | null>[];
}
