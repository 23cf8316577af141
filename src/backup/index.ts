/**
 * Physical backups. `backup()` reads as the list of steps it runs; each step lives in its own
 * file and each method (stream, local, cold) in sources/.
 *
 *   connect/identify -> check repository placement -> check identity -> external configuration
 *     -> start -> build file list + copy -> stop
 *     -> store WAL (standalone) -> verify -> publish manifest
 */
import { PgkeepError } from '../errors.js';
import type { SnapshotWriter } from '../repo/index.js';
import { checkClusterIdentity } from '../holdings/cluster-identity.js';
import { checkRepoPlacement, tablespacePlaces } from './repo-placement.js';
import { refuseRepoInside } from '../repo/placement.js';
import { checkChecksumFailures } from './checksum-report.js';
import { findPreviousBackup } from './previous.js';
import { buildMeta, publishSnapshot } from './publish.js';
import { ColdSource } from './sources/cold.js';
import { LocalSource } from './sources/local.js';
import { StreamSource } from './sources/stream.js';
import type { BackupOptions, BackupProgress, BackupResult, BackupRun, BackupSource } from './types.js';
import { cleanUpAfter } from '../cleanup.js';
import { checkBackupLabel } from './label.js';
import { checkSupportedVersion } from './supported-version.js';

export type {
  BackupMethod,
  BackupOptions,
  BackupPhase,
  BackupProgress,
  BackupResult,
  ChecksumFailure,
  IncrementalRead,
} from './types.js';
export { BACKUP_METHODS } from './types.js';
export { listBackups, listBackupsReport, type BackupSummary, type DamagedSnapshot } from './list.js';
export { showBackup, type BackupDetails, type ShowOptions } from './show.js';
export { verifyBackup, type VerifyReport, type VerifyOptions, type VerifyProblem } from './verify.js';
export { pageChecksum, checkPage, isNewPage, pageLsn, storedChecksum } from './page-checksum.js';
export { decideEntries, relationFileOf, unloggedNonInitForks, isTemporaryRelationName } from './exclusions.js';

function openSource(o: BackupOptions): BackupSource {
  const standalone = Boolean(o.standalone);
  switch (o.method ?? 'stream') {
    case 'local':
      return new LocalSource(o.cluster, { standalone, signal: o.signal });
    case 'cold':
      return new ColdSource(o.cluster, { signal: o.signal, debianConfigRoot: o.debianConfigRoot });
    case 'stream':
      return new StreamSource(o.cluster, { standalone, ignoreChecksumErrors: Boolean(o.ignoreChecksumErrors), signal: o.signal });
    default:
      throw new PgkeepError('USAGE', `unknown backup method "${String(o.method)}"`, { hint: 'use stream, local or cold' });
  }
}

export async function backup(o: BackupOptions): Promise<BackupResult> {
  const began = Date.now();
  const method = o.method ?? 'stream';
  const label = o.label ?? `pgkeep ${new Date().toISOString()}`;
  checkBackupLabel(label); // before connecting: a bad label is USAGE, whatever the server's state
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    o.onWarning?.(m);
  };
  const progress = (p: Partial<BackupProgress> & { phase: BackupProgress['phase'] }) =>
    o.onProgress?.({ bytesDone: 0, filesDone: 0, ...p });
  if (method === 'cold' && o.standalone) warn('--standalone has no effect with --method cold: a cold backup always carries its WAL');

  progress({ phase: 'connecting' });
  const source = openSource(o);
  let writer: SnapshotWriter | undefined;
  let closed = false;
  try {
    const facts = await source.identify();
    checkSupportedVersion(facts.serverVersion, facts.serverVersionNum, warn);
    await checkRepoPlacement(o.repo, facts, o.cluster);
    await checkClusterIdentity(o.repo, o.clusterName, facts.systemIdentifier);
    const previous = await findPreviousBackup(o.repo, o.clusterName, facts.systemIdentifier, warn);
    const jobs = Math.max(1, o.jobs ?? o.repo.jobs);
    writer = await o.repo.startSnapshot({
      cluster: o.clusterName,
      kind: 'physical',
      previous,
      jobs,
      signal: o.signal,
      purpose: `${method} backup`,
      // Every chunk is hashed (SHA-256, checked on every read); a second hash of whole files is
      // needed only to compare with the server's backup_manifest (stream).
      fileSha256: method === 'stream',
      onWarning: warn,
    });
    const run: BackupRun = { options: o, writer, ...(previous ? { previous } : {}), jobs, progress, warn };
    const externalConfig = await source.externalConfig(run);
    for (const f of externalConfig?.files ?? []) {
      if (f.error) warn(`${f.path} (${f.role}, outside the data directory) is not stored: ${f.error}`);
    }

    progress({ phase: 'starting' });
    const start = await source.start(run, label);
    if (start.tablespaces) await refuseRepoInside(o.repo, tablespacePlaces(start.tablespaces));
    const copy = await source.copy(run);
    checkChecksumFailures(copy.checksumFailures, Boolean(o.ignoreChecksumErrors), warn);
    const stop = await source.stop(run);
    const walSegments = o.standalone && method !== 'cold' ? await source.storeWal(run, start, stop) : 0;

    progress({ phase: 'publishing' });
    const seconds = (Date.now() - began) / 1000;
    const meta = buildMeta({
      method,
      label,
      standalone: method === 'cold' || Boolean(o.standalone),
      facts,
      start,
      stop,
      copy,
      walSegments,
      ...(previous ? { incrementalFrom: previous.id } : {}),
      ...(externalConfig ? { externalConfig } : {}),
      seconds,
    });
    const manifest = await publishSnapshot(writer, meta);
    writer = undefined;
    const stats = manifest.stats;
    const total = (Date.now() - began) / 1000;
    return {
      snapshotId: manifest.id,
      cluster: o.clusterName,
      method,
      standalone: meta.standalone,
      label,
      systemIdentifier: meta.systemIdentifier,
      serverVersion: meta.serverVersion,
      timeline: meta.timeline,
      startLsn: meta.startLsn,
      stopLsn: meta.stopLsn,
      walStart: meta.walStart,
      walEnd: meta.walEnd,
      startTime: meta.startTime,
      stopTime: meta.stopTime,
      files: stats.files,
      logicalBytes: stats.logicalBytes,
      storedBytes: stats.storedBytes,
      reusedBytes: stats.reusedBytes,
      reusedFiles: stats.reusedFiles,
      ...(copy.bytesRead !== undefined ? { bytesRead: copy.bytesRead } : {}),
      ...(copy.incrementalRead ? { incrementalRead: copy.incrementalRead } : {}),
      newChunks: stats.newChunks,
      reusedChunks: stats.reusedChunks,
      ...(previous ? { incrementalFrom: previous.id } : {}),
      walSegments,
      pagesChecked: copy.pagesChecked,
      checksumFailures: copy.checksumFailures,
      ...(copy.manifestFilesChecked !== undefined ? { manifestFilesChecked: copy.manifestFilesChecked } : {}),
      vanishedFiles: copy.vanished.length,
      seconds: total,
      bytesPerSecond: total > 0 ? stats.logicalBytes / total : 0,
      warnings,
    };
  } catch (e) {
    const failure =
      o.signal?.aborted && !(e instanceof PgkeepError && e.code === 'INTERRUPTED')
        ? new PgkeepError('INTERRUPTED', 'backup interrupted; nothing was published', { cause: e })
        : e;
    // Cleaning up never hides why the backup failed: its own failures become notes.
    if (writer) await cleanUpAfter(failure, 'abandoning the unfinished snapshot', () => writer!.abort());
    writer = undefined;
    await cleanUpAfter(failure, 'closing the backup source', () => source.close());
    closed = true;
    throw failure;
  } finally {
    if (!closed) await source.close();
  }
}
