/**
 * Physical restore: a snapshot back into a data directory, as a list of steps —
 *
 *   prepare (prepare.ts, shared with restore --plan: plan archive recovery — every restore that
 *   recovers from the WAL archive: choose the backup on the timeline's history, check the target
 *   against the archive — -> resolve snapshot -> place tablespaces & plan recovery -> layout and
 *   external configuration -> read back the archived WAL the backup needs (check-needed-wal)
 *   -> check target -> plan) -> keep WAL the archive lacks (--delta)
 *   -> begin (marker) -> tablespaces
 *   -> remove strays (--delta) -> write files -> tablespace_map -> recovery config -> external
 *   configuration (external-config.ts) -> finish
 *   (pg_control last, marker removed) -> start (--start; with archive recovery, wait for its end)
 *
 * Every restore that recovers is planned, cold and standalone ones included: to the end of what
 * the archive holds, never past a known gap, ending on a new timeline (pitr/archive-recovery.ts).
 * `archiveMode: 'off'` writes archive_mode = off so the copy never archives (recovery-config).
 *
 * Everything that can be refused is refused before the first byte is written. Until "finish"
 * the directory carries DIR/.pgkeep-restore-in-progress and has no global/pg_control, so it is
 * never mistaken for a complete cluster nor started by accident.
 */
import { resolve } from 'node:path';
import { withRepoLockWarnings } from '../repo/with-lock.js';
import { PgkeepError, toPgkeepError } from '../errors.js';
import type { LocalCluster } from '../pg/local-cluster.js';
import { beginRestore } from './begin.js';
import { withTargetErrors } from './target-errors.js';
import { finishRestore } from './finish.js';
import { startRestorePrefetch } from './start-prefetch.js';
import { writeRecoveryConfig } from './recovery-config.js';
import { removeStrays } from './remove-strays.js';
import { keepUnarchivedWal, unarchivedWalWarning } from './keep-wal.js';
import { startRestored } from './start.js';
import { restoredArchiveSettings } from './archive-mode.js';
import { waitForRecoveryEnd } from './pitr/wait.js';
import { configReport, writeExternalConfig } from './external-config.js';
import { missingConfigWarning, restoredStartCommand } from './start-command.js';
import { prepareRestore, writtenAfterStrays } from './prepare.js';
import { checkRecoveryReachedPlan } from './pitr/check-end.js';
import type { RecoveryEnd } from './pitr/types.js';
import { createTablespaces, rewriteTablespaceMap } from './tablespaces.js';
import type { RestoreOptions, RestoreProgress, RestoreResult, RestoreStep, StartedInfo } from './types.js';
import { createDirectories, createSymlinks, writeFiles, type WriteContext } from './write-files.js';
import { newRestoreStats } from './stats.js';

export type {
  RestoreOptions,
  RestoreProgress,
  RestoreResult,
  RestoreStats,
  RestoreStep,
  RepositoryAccess,
  StartedInfo,
  TablespaceMapping,
  RestoredTablespace,
} from './types.js';
export { parseTablespaceMapping } from './tablespace-map.js';
export {
  planRecovery,
  restoreCommand,
  writeRecoveryConfig,
  type RecoveryPlan,
  type RecoveryRequest,
  type RecoveryMode,
} from './recovery-config.js';
export { MARKER_FILE } from './marker.js';
export { parseArchiveMode, type ArchiveModeOption } from './archive-mode.js';
export { planArchiveRecovery, LATEST_POINT, type ArchiveRecoveryInput } from './pitr/archive-recovery.js';
export { startRestored, disablePlacementSettings } from './start.js';
export { serverBinariesFor } from './server-binaries.js';
export { dryRunRestore, type RestoreDryRun, type PlannedWrite } from './dry-run.js';
export * from './pitr/index.js';

/**
 * Restore under a shared repository lock, so a concurrent `repo gc` cannot repack or delete the
 * packs being read.
 */
export async function restore(o: RestoreOptions): Promise<RestoreResult> {
  return withRepoLockWarnings(o.repo, 'shared', 'restore', o.cluster, () => withTargetErrors(resolve(o.to), o, restoreUnlocked));
}

async function restoreUnlocked(o: RestoreOptions): Promise<RestoreResult> {
  const t0 = Date.now();
  const sync = o.sync ?? true;
  const stats = newRestoreStats();
  const p: RestoreProgress = { step: 'resolve', filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0, bytesWritten: 0 };
  const step = (s: RestoreStep) => {
    o.signal?.throwIfAborted();
    p.step = s;
    p.file = undefined;
    o.onProgress?.({ ...p });
  };

  const {
    dataDir,
    delta,
    pitr,
    snapshot,
    meta,
    placed,
    archiveMode,
    recovery,
    layout,
    config,
    target,
    plan,
    owners,
    serverOwner,
    serverCanRead,
    warnings,
    serverBinDir,
  } = await prepareRestore(o, step);
  if (!delta || !target.nonEmpty) o.repo.pool().warm(); // the blob workers boot while the directories are made
  Object.assign(stats, { entries: plan.totals.entries, files: plan.totals.files, bytes: plan.totals.bytes });
  Object.assign(p, { filesTotal: plan.totals.files, bytesTotal: plan.totals.bytes });
  const wc: WriteContext = {
    repo: o.repo,
    snapshot,
    plan,
    owners,
    delta,
    sync,
    stats,
    signal: o.signal,
    jobs: Math.max(1, o.jobs ?? o.repo.jobs),
    onBytes: (n, file) => {
      p.bytesDone += n;
      p.bytesWritten = stats.bytesWritten;
      p.file = file;
      o.onProgress?.({ ...p });
    },
    onFileDone: () => {
      p.filesDone++;
    },
  };

  let keepWal: Awaited<ReturnType<typeof keepUnarchivedWal>> = { keepPaths: [] };
  if (delta && target.nonEmpty) {
    step('keep-wal');
    keepWal = await keepUnarchivedWal({
      dataDir,
      repo: o.repo,
      cluster: o.cluster,
      systemId: meta.systemIdentifier,
      archiveRecovery: recovery.mode === 'archive-recovery',
      snapshotPaths: plan.keep,
      signal: o.signal,
    });
    if (keepWal.report) warnings.push(unarchivedWalWarning(keepWal.report));
  }

  step('begin');
  await beginRestore(dataDir, snapshot.id, o.cluster, delta);

  step('tablespaces');
  await createTablespaces(plan, owners, stats);

  let removed: string[] = [];
  if (delta) {
    step('remove-strays');
    removed = await removeStrays(dataDir, plan.keep, [...writtenAfterStrays({ recovery, config }), ...keepWal.keepPaths], o.signal);
    stats.filesRemoved = removed.length;
  }

  // Finding pg_ctl runs the installed servers' --version: under way while the files are written.
  const startCommandLater = restoredStartCommand(
    dataDir,
    layout,
    Math.floor(meta.serverVersionNum / 10000),
    plan.ownerRecord?.owner,
    serverBinDir ?? o.pgBin,
  );
  startCommandLater.catch(() => undefined);

  step('write-files');
  await createDirectories(wc);
  await createSymlinks(wc);
  const root = plan.ownerRecord;
  const prefetch = startRestorePrefetch(o, recovery, meta, dataDir, { owner: serverOwner, canRead: serverCanRead }); // its start-up runs while the files are written
  if (prefetch.warning) warnings.push(prefetch.warning);
  let archiving: RestoreResult['archiving'];
  let startCommand: string;
  try {
    await writeFiles(wc);
    await rewriteTablespaceMap(plan, meta.tablespaceMap, owners, root);

    step('recovery-config');
    await writeRecoveryConfig(dataDir, recovery, `snapshot ${snapshot.id}`, serverOwner);
    await writeExternalConfig(config, dataDir, serverOwner);

    archiving = { option: archiveMode, ...(await restoredArchiveSettings(dataDir, config?.configFile)) };
    startCommand = await startCommandLater;
    warnings.push(...missingConfigWarning(dataDir, layout, archiving.known));

    step('finish');
    await finishRestore(wc);
  } catch (e) {
    await prefetch.stop(); // no prefetcher left in a restore that failed
    throw e;
  }
  await prefetch.ready(); // the server's first calls answered by the sh front
  p.bytesWritten = stats.bytesWritten;
  const seconds = (Date.now() - t0) / 1000;

  let started: StartedInfo | undefined;
  let recoveryEnd: RecoveryEnd | undefined;
  if (o.start) {
    step('start');
    // With recovery_target_action = shutdown the server stops by itself: do not wait for it to accept connections.
    const action = pitr?.target ? pitr.action : undefined;
    const s = await startRestored(dataDir, { port: o.port, listen: o.listen, wait: action !== 'shutdown', pgBin: serverBinDir }).catch(
      (e: unknown) => {
        const err = toPgkeepError(e);
        throw new PgkeepError(err.code, `the restore into ${dataDir} is complete, but the server did not start: ${err.message}`, {
          hint: err.hint,
          details: err.details,
          cause: e,
        });
      },
    );
    started = s.info;
    handOver(s.cluster, o);
    if (recovery.mode === 'archive-recovery') {
      recoveryEnd = await waitForRecoveryEnd(s.cluster, action, { logFrom: 0, signal: o.signal });
      if (pitr) checkRecoveryReachedPlan(pitr, recoveryEnd, dataDir, s.cluster.logFile);
    }
  }

  return {
    snapshotId: snapshot.id,
    cluster: o.cluster,
    method: meta.method,
    standalone: Boolean(meta.standalone),
    serverVersion: meta.serverVersion,
    dataDir,
    delta,
    ...(target.interrupted ? { resumed: target.interrupted.snapshot } : {}),
    tablespaces: placed,
    removed,
    ...(keepWal.report ? { unarchivedWal: keepWal.report } : {}),
    stats,
    recovery: {
      mode: recovery.mode,
      ...(recovery.signal ? { signal: recovery.signal } : {}),
      settings: Object.fromEntries(Object.entries(recovery.settings).map(([k, v]) => [k, String(v)])),
    },
    archiving,
    ...(config ? { configuration: configReport(config) } : {}),
    startCommand,
    seconds,
    throughput: seconds > 0 ? Math.round(stats.bytes / seconds) : stats.bytes,
    ...(started ? { started } : {}),
    ...(pitr ? { pitr } : {}),
    ...(recoveryEnd ? { recoveryEnd } : {}),
    ...(pitr ? { wal: pitr.wal } : {}),
    warnings,
  };
}

function handOver(cluster: LocalCluster, o: RestoreOptions): void {
  if (o.detach) cluster.detach();
  o.onStarted?.(cluster);
}
