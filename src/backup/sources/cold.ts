/**
 * `--method cold`: the cluster is cleanly shut down (its control file says "shut down" or "shut down
 * in recovery"), so its files are consistent as they are: copy everything (pg_wal included: the
 * shutdown checkpoint record is there), verify page checksums, and check afterwards that nobody
 * started the server meanwhile. The snapshot restores and starts with no WAL archive.
 */
import { existsSync, readFileSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { debianClusterOwning, debianConfigFiles } from '../../pg/debian-layout.js';
import { collectExternalConfig, diskReader } from '../external-config.js';
import type { ExternalConfig } from '../../holdings/physical-meta.js';
import { PgkeepError } from '../../errors.js';
import { dataDirMajor, readControlData, type ControlData } from '../../pg/control.js';
import { parseLsn } from '../../pg/lsn.js';
import { findPgTool } from '../../pg/bin.js';
import type { ClusterSettings } from '../../config/types.js';
import { copyFiles, MTIME_MARGIN_MS } from '../copy-files.js';
import { buildFileList } from '../file-list.js';
import type { BackupRun, BackupSource, CopyReport, ServerFacts, StartInfo, StopInfo } from '../types.js';
import { processAlive } from '../../pg/process-alive.js';

const MAX_LSN = 0xffff_ffff_ffff_ffffn;

export class ColdSource implements BackupSource {
  readonly method = 'cold' as const;
  private control?: ControlData;
  private major = 0;
  private pgdata: string;

  constructor(
    private readonly settings: ClusterSettings,
    private readonly opts: { signal?: AbortSignal; debianConfigRoot?: string },
  ) {
    if (!settings.pgdata) {
      throw new PgkeepError('CONFIG', 'no data directory is configured for --method cold', {
        hint: 'set pgdata in [cluster.NAME] or use --pgdata',
      });
    }
    this.pgdata = settings.pgdata;
  }

  async identify(): Promise<ServerFacts> {
    this.major = dataDirMajor(this.pgdata);
    const control = await this.readShutDownControl();
    this.control = control;
    if (!control.systemIdentifier || !control.latestCheckpoint || !control.timeline) {
      throw new PgkeepError('DATA_INTEGRITY', `pg_controldata did not report the system identifier and checkpoint of ${this.pgdata}`);
    }
    // The control file says the major only; the server binary of that major, when found, the minor.
    const version = await findPgTool('postgres', { exactMajor: this.major, pgBin: this.settings.pgBin }).then(
      (t) => t.version,
      () => String(this.major),
    );
    const [maj, min] = version.split('.').map(Number);
    return {
      systemIdentifier: control.systemIdentifier,
      serverVersion: version,
      serverVersionNum: (maj ?? this.major) * 10000 + (min ?? 0),
      walSegmentSize: control.walSegmentSize ?? 16 * 1024 * 1024,
      dataChecksums: (control.dataChecksumVersion ?? 0) > 0,
      blockSize: control.blockSize ?? 8192,
      pgdata: this.pgdata,
      tablespaces: [],
    };
  }

  private async readShutDownControl(): Promise<ControlData> {
    const control = await readControlData(this.pgdata, { pgBin: this.settings.pgBin, signal: this.opts.signal });
    if (control.crcMismatch) {
      throw new PgkeepError(
        'DATA_INTEGRITY',
        `the control file global/pg_control of ${this.pgdata} is damaged: its CRC does not match its content, so what it says ` +
          `("${control.clusterState ?? 'unknown'}") cannot be trusted and a cold backup would not be consistent`,
        {
          hint:
            'do not back this copy up cold: the server will not start on it either; restore the cluster from a backup ' +
            '(pgkeep restore), and check the disk it lives on',
          details: { warnings: control.warnings },
        },
      );
    }
    const pid = postmasterPid(this.pgdata);
    if (!control.cleanlyShutDown || (pid !== undefined && processAlive(pid))) {
      throw new PgkeepError(
        'SERVER_NOT_READY',
        `the cluster in ${this.pgdata} is not cleanly shut down (control file: "${control.clusterState ?? 'unknown'}"` +
          `${pid !== undefined && processAlive(pid) ? `, postmaster ${pid} is running` : ''}): a cold backup would not be consistent`,
        {
          hint:
            'stop the server cleanly (pg_ctl stop -m fast) and run the backup again, or back it up while it runs ' +
            'with --method local or --method stream',
          details: { state: control.clusterState, pid },
        },
      );
    }
    return control;
  }

  async start(): Promise<StartInfo> {
    const c = this.control!;
    return { startLsn: parseLsn(c.latestCheckpoint!), timeline: c.timeline!, startTime: new Date() };
  }

  async copy(run: BackupRun): Promise<CopyReport> {
    const c = this.control!;
    run.progress({ phase: 'copying', bytesDone: 0, filesDone: 0 });
    const list = await buildFileList(this.pgdata, { mode: 'cold', major: this.major, signal: run.options.signal });
    const blockSize = c.blockSize ?? 8192;
    const segmentBlocks = Number(c.fields['Blocks per segment of large relation'] ?? 131072);
    const report = await copyFiles({
      writer: run.writer,
      entries: list.entries,
      jobs: run.jobs,
      ...(run.options.checksumAll ? {} : { reuseBefore: Date.now() - MTIME_MARGIN_MS }),
      // a clean shutdown leaves no page newer than its checkpoint: check every page
      ...((c.dataChecksumVersion ?? 0) > 0 ? { pages: { startLsn: MAX_LSN, blockSize, segmentBlocks } } : {}),
      signal: run.options.signal,
      onProgress: (bytes, files) =>
        run.progress({ phase: 'copying', bytesDone: bytes, bytesTotal: list.totalBytes, filesDone: files, filesTotal: list.fileCount }),
    });
    return { ...report, tablespaces: list.tablespaces };
  }

  async stop(run: BackupRun): Promise<StopInfo> {
    run.progress({ phase: 'stopping', bytesDone: 0, filesDone: 0 });
    const after = await this.readShutDownControl().catch((e) => {
      throw new PgkeepError('CONFLICT', `the cluster in ${this.pgdata} was started while it was being copied: the copy is not consistent`, {
        hint: 'keep the server stopped during a cold backup, or use --method local / stream while it runs',
        cause: e,
      });
    });
    if (after.latestCheckpoint !== this.control!.latestCheckpoint) {
      throw new PgkeepError(
        'CONFLICT',
        `the cluster in ${this.pgdata} ran while it was being copied (its checkpoint moved from ` +
          `${this.control!.latestCheckpoint} to ${after.latestCheckpoint}): the copy is not consistent`,
        {
          hint: 'keep the server stopped during a cold backup, then run it again',
        },
      );
    }
    return { stopLsn: parseLsn(after.latestCheckpoint!), timeline: after.timeline!, stopTime: new Date() };
  }

  async storeWal(): Promise<number> {
    return 0; // pg_wal is part of the copy
  }

  /**
   * The server is down and cannot say where its configuration is; postgresql-common can: the
   * data directory of a cluster of /etc/postgresql has its files there (hba_file and ident_file
   * as its postgresql.conf sets them). Other layouts: nothing is known outside the data directory.
   */
  async externalConfig(): Promise<ExternalConfig | undefined> {
    const pgdata = await realpath(this.pgdata).catch(() => resolve(this.pgdata));
    const cluster = await debianClusterOwning(pgdata, this.opts.debianConfigRoot);
    if (!cluster) return undefined;
    return collectExternalConfig({ dataDirectory: pgdata, ...(await debianConfigFiles(cluster)) }, diskReader);
  }

  async close(): Promise<void> {}
}

function postmasterPid(pgdata: string): number | undefined {
  const file = join(pgdata, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
