/**
 * `--method stream` (default): the replication protocol, so it works from any host (PostgreSQL 13+;
 * the protocol layer speaks both BASE_BACKUP dialects). BASE_BACKUP sends tar archives (tablespaces first, the data directory last) that are
 * parsed on the fly and stored file by file; tablespace files are stored as pg_tblspc/<oid>/...
 * The server's backup_manifest is checked against what was stored (sizes and SHA-256) and stored
 * as "backup_manifest". The server verifies page checksums itself while it reads.
 */
import { PgkeepError } from '../../errors.js';
import type { ClusterSettings } from '../../config/types.js';
import { streamContent, type FileEntry } from '../../repo/index.js';
import { parseWalSegmentSizeSetting } from '../../pg/lsn.js';
import {
  OLDEST_STREAM_MAJOR,
  ReplicationClient,
  assertManifestVerified,
  versionText,
  parseBackupManifest,
  verifyManifestEntries,
  type BackupEvent,
  type TarEntry,
} from '../../pg/protocol/index.js';
import type { TablespaceInfo } from '../../holdings/physical-meta.js';
import { WalCollector } from '../stream-wal.js';
import { ArchiveWatch } from '../archive-watch.js';
import { connect } from '../../pg/connect.js';
import { collectExternalConfig, configLocationsWarning, sqlConfigLocations, sqlReader } from '../external-config.js';
import type { ExternalConfig } from '../../holdings/physical-meta.js';
import type { BackupRun, BackupSource, CopyReport, ServerFacts, StartInfo, StopInfo } from '../types.js';
import { withArticle } from '../../words.js';
import { InflightWrites } from './inflight-writes.js';

/** Owner of the server's files, given to the files we add (backup_manifest, WAL). */
type FileOwner = Pick<FileEntry, 'uid' | 'gid' | 'owner' | 'group'>;

/** What the steps of one copy share. */
interface CopyState {
  report: CopyReport;
  writes: InflightWrites;
  /** pg_tblspc/<oid> -> location, for the links the tar has not carried yet. */
  tsLinks: Map<string, string>;
  owner?: FileOwner;
  progress: () => void;
}

export class StreamSource implements BackupSource {
  readonly method = 'stream' as const;
  private rc?: ReplicationClient;
  private facts?: ServerFacts;
  private events?: AsyncIterator<BackupEvent>;
  private wal?: WalCollector;
  private started?: StartInfo;
  private stopped?: { stopLsn: bigint; timeline: number };
  private backupLabel?: string;
  private tablespaceMap?: string;
  private tablespaces: TablespaceInfo[] = [];
  private totalBytes?: number;
  /** Watches the server's wait for archiving at the end of BASE_BACKUP (not for --standalone). */
  private watch?: ArchiveWatch;

  constructor(
    private readonly settings: ClusterSettings,
    private readonly opts: { standalone: boolean; ignoreChecksumErrors: boolean; signal?: AbortSignal },
  ) {}

  async identify(): Promise<ServerFacts> {
    this.rc = await ReplicationClient.connect(this.settings, { signal: this.opts.signal, applicationName: 'pgkeep backup' });
    const rc = this.rc;
    if (rc.serverMajor < OLDEST_STREAM_MAJOR) {
      // 12 and older send no backup_manifest, which every stream backup is checked against
      throw new PgkeepError(
        'UNSUPPORTED',
        `--method stream needs PostgreSQL ${OLDEST_STREAM_MAJOR} or newer; this server is ${versionText(rc.serverVersionNum)}`,
        {
          hint: 'use --method local on the database host',
        },
      );
    }
    const id = await rc.identifySystem();
    const walLevel = await rc.showSetting('wal_level');
    if (walLevel === 'minimal') {
      throw new PgkeepError('SERVER_NOT_READY', 'wal_level is minimal: a hot backup needs wal_level = replica', {
        hint: 'set wal_level = replica in postgresql.conf and restart the server, or stop it and use --method cold',
      });
    }
    const blockSize = Number(await rc.showSetting('block_size'));
    this.facts = {
      systemIdentifier: id.systemId,
      serverVersion: (await rc.showSetting('server_version')).split(' ')[0]!,
      serverVersionNum: rc.serverVersionNum,
      walSegmentSize: parseWalSegmentSizeSetting(await rc.showSetting('wal_segment_size')),
      dataChecksums: (await rc.showSetting('data_checksums')) === 'on',
      blockSize,
      tablespaces: [],
    };
    // Only to check where the repository is (backup/repo-placement.ts); a role may not read it.
    const dataDirectory = await rc.showSetting('data_directory').catch(() => undefined);
    if (dataDirectory) this.facts.dataDirectory = dataDirectory;
    return this.facts;
  }

  /**
   * Over an ordinary SQL session: the server reads the files (pg_read_file needs superuser or
   * pg_read_server_files for files outside the data directory). Without a SQL session, the
   * backup goes on and says what it could not store.
   */
  async externalConfig(run: BackupRun): Promise<ExternalConfig | undefined> {
    let client;
    try {
      client = await connect(this.settings, { signal: this.opts.signal, applicationName: 'pgkeep backup' });
    } catch (e) {
      run.warn(configLocationsWarning(e));
      return undefined;
    }
    try {
      const at = await sqlConfigLocations(client).catch((e: unknown) => {
        run.warn(configLocationsWarning(e));
        return undefined;
      });
      return at ? await collectExternalConfig(at, sqlReader(client)) : undefined;
    } finally {
      await client.end().catch(() => {});
    }
  }

  async start(run: BackupRun, label: string): Promise<StartInfo> {
    if (this.opts.standalone) {
      this.wal = new WalCollector(run.writer, this.facts!.walSegmentSize, run.options.signal);
      if (!(await this.wal.prepare(this.settings))) {
        run.warn(
          'could not create a temporary replication slot (max_replication_slots too low?): the WAL of this ' +
            'standalone backup is streamed without a slot and could be removed by the server before it arrives',
        );
      }
    }
    const waitForArchive = !this.opts.standalone && (await this.startArchiveWatch(run));
    const stream = this.rc!.baseBackup({
      label,
      fast: run.options.checkpoint !== 'spread',
      progress: true,
      manifest: true,
      manifestChecksums: 'SHA256',
      tablespaceMap: true,
      ...(this.opts.ignoreChecksumErrors ? { noVerifyChecksums: true } : {}),
      ...(waitForArchive ? {} : { waitForArchive: false }),
      signal: run.options.signal,
    });
    this.events = stream[Symbol.asyncIterator]();
    const first = await this.events.next();
    if (first.done || first.value.type !== 'start') throw new PgkeepError('CONNECTION', 'BASE_BACKUP did not report its start position');
    const ev = first.value;
    this.tablespaces = ev.tablespaces.map((t) => ({ oid: String(t.oid), location: t.location }));
    this.totalBytes = ev.totalBytes;
    this.started = { startLsn: ev.startLsn, timeline: ev.timeline, startTime: new Date(), tablespaces: this.tablespaces };
    if (this.wal) await this.wal.start(ev.startLsn, ev.timeline);
    return this.started;
  }

  async copy(run: BackupRun): Promise<CopyReport> {
    const report: CopyReport = {
      files: 0,
      bytes: 0,
      reusedFiles: 0,
      vanished: [],
      pagesChecked: 0,
      checksumFailures: [],
      tablespaces: this.tablespaces,
    };
    const writes = new InflightWrites(Math.max(2, run.jobs * 2));
    const c: CopyState = {
      report,
      writes,
      tsLinks: new Map(this.tablespaces.map((t) => [`pg_tblspc/${t.oid}`, t.location])),
      progress: () => run.progress({ phase: 'copying', bytesDone: report.bytes, bytesTotal: this.totalBytes, filesDone: writes.filesDone }),
    };
    let manifest: Buffer | undefined;
    for (;;) {
      const next = await this.nextEvent().catch((e: unknown) => {
        throw checksumFailureError(e);
      });
      if (next.done) break;
      const ev = next.value;
      writes.throwIfFailed();
      switch (ev.type) {
        case 'file':
          await this.copyFile(run, ev, c);
          break;
        case 'progress':
          c.progress();
          break;
        case 'manifest':
          manifest = ev.content;
          break;
        case 'end':
          this.stopped = { stopLsn: ev.stopLsn, timeline: ev.timeline };
          break;
        default:
          break;
      }
    }
    await this.watch?.stop();
    // tablespaces whose link the tar did not carry (TABLESPACE_MAP): record them too
    for (const [path, location] of c.tsLinks) {
      writes.track(run.writer.addFile({ path, type: 'symlink', mode: 0o777, mtimeMs: Date.now(), linkTarget: location }));
    }
    await writes.drain();
    if (!this.stopped) throw new PgkeepError('CONNECTION', 'BASE_BACKUP ended without its stop position');
    if (!manifest) throw new PgkeepError('CONNECTION', 'the server sent no backup_manifest');
    await addVerifiedManifest(run, report, manifest, writes, c.owner);
    return report;
  }

  /** One file of the server's archives into the writer (backup_label and tablespace_map also kept here). */
  private async copyFile(run: BackupRun, ev: Extract<BackupEvent, { type: 'file' }>, c: CopyState): Promise<void> {
    const { report, writes, tsLinks } = c;
    report.files++;
    if (ev.archive === 'base.tar' && tsLinks.has(ev.path)) {
      // the tablespace's link: recorded as a symlink to its location (whatever the tar says)
      ev.content.resume();
      writes.track(run.writer.addFile({ ...entryOf(ev.path, ev.entry), type: 'symlink', linkTarget: tsLinks.get(ev.path)! }));
      tsLinks.delete(ev.path);
      return;
    }
    const entry = entryOf(ev.path, ev.entry);
    if (!c.owner && ev.entry.type === 'file') {
      c.owner = { uid: entry.uid, gid: entry.gid, owner: entry.owner, group: entry.group };
      if (this.wal) this.wal.owner = c.owner;
    }
    if (ev.entry.type !== 'file') {
      ev.content.resume();
      if (ev.entry.type === 'directory' || ev.entry.type === 'symlink') writes.track(run.writer.addFile(entry));
      else run.warn(`skipped ${ev.path}: ${withArticle(ev.entry.type)} entry in the server's archive`);
      return;
    }
    const content = streamContent(ev.content, (n) => {
      report.bytes += n;
      c.progress();
    });
    if (ev.path === 'backup_label' || ev.path === 'tablespace_map') {
      const text = await readAll(ev.content, (n) => {
        report.bytes += n;
        c.progress();
      });
      if (ev.path === 'backup_label') this.backupLabel = text.toString('utf8');
      else this.tablespaceMap = text.toString('utf8');
      writes.track(run.writer.addFile(entry, text));
      return;
    }
    writes.track(run.writer.addFile(entry, content));
    await writes.waitForRoom();
  }

  async stop(): Promise<StopInfo> {
    const s = this.stopped!;
    return {
      stopLsn: s.stopLsn,
      timeline: s.timeline,
      stopTime: new Date(),
      ...(this.backupLabel ? { backupLabel: this.backupLabel } : {}),
      ...(this.tablespaceMap ? { tablespaceMap: this.tablespaceMap } : {}),
    };
  }

  async storeWal(run: BackupRun, _start: StartInfo, stop: StopInfo): Promise<number> {
    run.progress({ phase: 'wal', bytesDone: 0, filesDone: 0 });
    return this.wal!.finish(stop.stopLsn);
  }

  /**
   * BASE_BACKUP waits for the archiving of its last segment (WAIT, the server's default): bound
   * and watch that wait from a second session. False when there is none (then WAIT false).
   */
  private async startArchiveWatch(run: BackupRun): Promise<boolean> {
    const o = run.options;
    const watch = await ArchiveWatch.start({
      settings: this.settings,
      waiterPid: (this.rc!.client as unknown as { processID: number }).processID,
      startClock: 'basebackup',
      timeoutMs: o.archiveTimeoutMs,
      signal: o.signal,
    });
    if (watch instanceof ArchiveWatch) {
      this.watch = watch;
      return true;
    }
    run.warn(
      `cannot watch the WAL archiver from an SQL session (${watch.unavailable}): the backup does not wait for its last ` +
        'WAL segment to be archived; "pgkeep wal check" shows when it is',
    );
    return false;
  }

  /** The next event of BASE_BACKUP; when the archive watch ends the wait, its reason. */
  private async nextEvent(): Promise<IteratorResult<BackupEvent>> {
    const next = this.events!.next();
    if (!this.watch) return next;
    next.catch(() => undefined);
    try {
      return await Promise.race([next, this.watch.failure]);
    } catch (e) {
      throw this.watch.endedWith ?? e;
    }
  }

  async close(): Promise<void> {
    await this.watch?.stop();
    await this.events?.return?.().catch(() => undefined);
    await this.wal?.close();
    await this.rc?.close();
  }
}

/** The server fails BASE_BACKUP at its end when it found pages with a wrong checksum (they are in its log). */
function checksumFailureError(e: unknown): unknown {
  const msg = e instanceof Error ? e.message : String(e);
  if (!/checksum verification failure/i.test(msg)) return e;
  return new PgkeepError('DATA_INTEGRITY', `the server found pages with a wrong checksum while sending the backup: ${msg}`, {
    hint:
      'the server log names each file and block; "pgkeep backup --method local" names them too. Restore the damaged ' +
      'data from an earlier backup, or use --ignore-checksum-errors to take the backup anyway',
    cause: e,
  });
}

function entryOf(path: string, e: TarEntry): FileEntry {
  const type = e.type === 'directory' ? 'directory' : e.type === 'symlink' ? 'symlink' : 'file';
  return {
    path,
    type,
    mode: e.mode & 0o7777,
    size: e.size,
    mtimeMs: e.mtime * 1000,
    uid: e.uid,
    gid: e.gid,
    ...(e.uname ? { owner: e.uname } : {}),
    ...(e.gname ? { group: e.gname } : {}),
    ...(e.linkTarget !== undefined && type === 'symlink' ? { linkTarget: e.linkTarget } : {}),
  };
}

async function readAll(stream: AsyncIterable<Buffer>, onBytes: (n: number) => void): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) {
    onBytes(c.length);
    parts.push(c);
  }
  return Buffer.concat(parts);
}

/** The server's backup_manifest checked against what was stored, then stored as "backup_manifest". */
async function addVerifiedManifest(
  run: BackupRun,
  report: CopyReport,
  manifest: Buffer,
  writes: InflightWrites,
  owner: FileOwner | undefined,
): Promise<void> {
  run.progress({ phase: 'verifying', bytesDone: report.bytes, filesDone: writes.filesDone });
  const parsed = parseBackupManifest(manifest, { verifyChecksum: true });
  const verdict = verifyManifestEntries(parsed, writes.stored);
  assertManifestVerified(verdict, 'the stored backup');
  report.manifestFilesChecked = verdict.checked;
  await run.writer.addFile(
    { path: 'backup_manifest', type: 'file', mode: 0o600, size: manifest.length, mtimeMs: Date.now(), ...owner },
    manifest,
  );
  report.files++;
}
