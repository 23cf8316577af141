/**
 * Step "start prefetch" (after finish, with `startPrefetch`): when restore_command is pgkeep's
 * prefetching `wal get` from this repository, start its prefetcher now, from the backup's first
 * segment, so that the spool holds what recovery asks for first when the server starts (see
 * wal/early-prefetch.ts). Returns a warning when it could not (recovery starts one itself).
 */
import type { PhysicalBackupMeta } from '../holdings/physical-meta.js';
import { backupFirstSegment } from '../holdings/physical-meta.js';
import { startEarlyPrefetch } from '../wal/index.js';
import { defaultPgkeepScript, prefetchOf, restoreGlobalArgs, type RecoveryPlan } from './recovery-config.js';
import type { RestoreOptions } from './types.js';

export function startRestorePrefetch(
  o: RestoreOptions,
  recovery: RecoveryPlan,
  meta: PhysicalBackupMeta,
  dataDir: string,
): string | undefined {
  const count = prefetchOf(o.access);
  if (!o.startPrefetch || recovery.mode !== 'archive-recovery' || !recovery.fromRepository || count === 0) return undefined;
  const r = startEarlyPrefetch({
    dataDir,
    script: `${defaultPgkeepScript()}.js`,
    globalArgs: restoreGlobalArgs(o.access),
    repoId: o.repo.config.id,
    cluster: o.access.cluster,
    systemIdentifier: meta.systemIdentifier,
    first: backupFirstSegment(meta),
    segmentSize: meta.walSegmentSize,
    count,
  });
  return 'skipped' in r ? `the prefetcher was not started before the server (${r.skipped}): recovery's first get starts it` : undefined;
}
