/**
 * `--method local`: on the database host. One SQL session runs pg_backup_start ... pg_backup_stop
 * while N readers copy the data directory (and tablespaces) straight from disk, verifying page
 * checksums. backup_label and tablespace_map come from pg_backup_stop.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { PgkeepError } from '../../errors.js';
import { connect } from '../../pg/connect.js';
import { watchSession, type SessionWatch } from '../../pg/session-lost.js';
import type { ClusterSettings } from '../../config/types.js';
import { copyFiles, MTIME_MARGIN_MS } from '../copy-files.js';
import { buildFileList } from '../file-list.js';
import { planOptions, reportIncrementalRead, walChangesForBackup } from '../incremental-read.js';
import { storeLocalWal } from '../local-wal.js';
import { groupName, userName } from '../../os-names.js';
import { checkLocalDataDirectory, readSqlServerFacts, type SqlServerFacts } from '../server-facts.js';
import { createTemporarySlot, startLocalBackup } from '../start.js';
import { stopLocalBackup, stopLocalBackupWatched } from '../stop.js';
import type { BackupRun, BackupSource, CopyReport, ServerFacts, StartInfo, StopInfo } from '../types.js';
import { walRange } from '../../pg/wal/range.js';
import { collectExternalConfig, configLocationsWarning, diskReader, sqlConfigLocations } from '../external-config.js';
import type { ExternalConfig } from '../../holdings/physical-meta.js';

export class LocalSource implements BackupSource {
  readonly method = 'local' as const;
  private client?: pg.Client;
  private session?: SessionWatch;
  private facts?: SqlServerFacts;
  private pgdata?: string;
  private started?: StartInfo;

  constructor(
    private readonly settings: ClusterSettings,
    private readonly opts: { standalone: boolean; signal?: AbortSignal },
  ) {}

  async identify(): Promise<ServerFacts> {
    this.client = await connect(this.settings, { signal: this.opts.signal, applicationName: 'pgkeep backup' });
    this.session = watchSession(this.client);
    const facts = await readSqlServerFacts(this.client);
    this.facts = facts;
    if (facts.walLevel === 'minimal') {
      throw new PgkeepError('SERVER_NOT_READY', 'wal_level is minimal: a hot backup needs wal_level = replica', {
        hint: 'set wal_level = replica in postgresql.conf and restart the server, or stop it and use --method cold',
      });
    }
    if (this.opts.standalone && facts.inRecovery) {
      throw new PgkeepError('UNSUPPORTED', '--method local --standalone cannot run on a standby (it cannot switch WAL segments)', {
        hint: 'use --method stream --standalone, or back up the primary',
      });
    }
    this.pgdata = await checkLocalDataDirectory(this.settings.pgdata, facts);
    return { ...facts, pgdata: this.pgdata };
  }

  /** On the database host: the files are read from disk, as pgkeep's OS user. */
  async externalConfig(run: BackupRun): Promise<ExternalConfig | undefined> {
    const at = await sqlConfigLocations(this.client!).catch((e: unknown) => {
      run.warn(configLocationsWarning(e));
      return undefined;
    });
    return at ? collectExternalConfig(at, diskReader) : undefined;
  }

  async start(run: BackupRun, label: string): Promise<StartInfo> {
    const client = this.client!;
    if (this.opts.standalone && !(await createTemporarySlot(client))) {
      run.warn(
        'could not create a temporary replication slot (max_replication_slots = 0?): the WAL of this standalone ' +
          'backup is not protected from removal until it is copied',
      );
    }
    this.started = await startLocalBackup(client, this.facts!.major, label, this.session, run.options.checkpoint !== 'spread');
    return this.started;
  }

  async copy(run: BackupRun): Promise<CopyReport> {
    const facts = this.facts!;
    const start = this.started!;
    run.progress({ phase: 'copying', bytesDone: 0, filesDone: 0 });
    const list = await buildFileList(this.pgdata!, { mode: 'hot', major: facts.major, signal: run.options.signal });
    const changes = await walChangesForBackup(this.client!, run, facts, start, this.session);
    const report = await copyFiles({
      ...planOptions(changes, run, facts),
      writer: run.writer,
      entries: list.entries,
      jobs: run.jobs,
      ...(run.options.checksumAll ? {} : { reuseBefore: start.startTime.getTime() - MTIME_MARGIN_MS }),
      ...(facts.dataChecksums
        ? { pages: { startLsn: start.startLsn, blockSize: facts.blockSize, segmentBlocks: facts.segmentBlocks } }
        : {}),
      signal: run.options.signal,
      onProgress: (bytes, files) =>
        run.progress({ phase: 'copying', bytesDone: bytes, bytesTotal: list.totalBytes, filesDone: files, filesTotal: list.fileCount }),
    });
    return {
      ...report,
      tablespaces: list.tablespaces,
      incrementalRead: reportIncrementalRead(changes, report, list.fileCount, run, facts.major),
    };
  }

  async stop(run: BackupRun): Promise<StopInfo> {
    run.progress({ phase: 'stopping', bytesDone: 0, filesDone: 0 });
    // --standalone stores its WAL itself: no wait for the archive
    const stopped = this.opts.standalone
      ? await stopLocalBackup(this.client!, this.facts!.major, false, this.session)
      : await stopLocalBackupWatched(this.client!, this.facts!.major, run, this.session);
    const owner = await stat(join(this.pgdata!, 'PG_VERSION'));
    const file = (path: string, text: string) =>
      run.writer.addFile(
        {
          path,
          type: 'file',
          mode: 0o600,
          size: Buffer.byteLength(text),
          mtimeMs: stopped.stopTime.getTime(),
          uid: owner.uid,
          gid: owner.gid,
          owner: userName(owner.uid),
          group: groupName(owner.gid),
        },
        Buffer.from(text, 'utf8'),
      );
    if (stopped.backupLabel) await file('backup_label', stopped.backupLabel);
    if (stopped.tablespaceMap) await file('tablespace_map', stopped.tablespaceMap);
    return stopped;
  }

  async storeWal(run: BackupRun, start: StartInfo, stop: StopInfo): Promise<number> {
    run.progress({ phase: 'wal', bytesDone: 0, filesDone: 0 });
    const seg = this.facts!.walSegmentSize;
    return storeLocalWal(
      run.writer,
      this.pgdata!,
      walRange(stop.timeline, start.startLsn, stop.stopLsn, seg),
      stop.timeline,
      seg,
      run.options.signal,
    );
  }

  async close(): Promise<void> {
    // ending the session also ends a backup that was not stopped and drops the temporary slot
    await this.client?.end().catch(() => {});
    this.client = undefined;
  }
}
