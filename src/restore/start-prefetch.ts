/**
 * With `startPrefetch`, once the directories are made: when restore_command is pgkeep's
 * prefetching `wal get` from this repository, start its prefetcher, from the backup's first
 * segment, so that the spool holds what recovery asks for first when the server starts (see
 * wal/early-prefetch.ts); its start-up runs while the files are written. `ready()` (before restore
 * returns) waits a little for its first answers; `stop()` ends it when the restore fails.
 */
import { chownSync } from 'node:fs';
import type { PhysicalBackupMeta } from '../holdings/physical-meta.js';
import type { Owner } from './ownership.js';
import { backupFirstSegment } from '../holdings/physical-meta.js';
import { awaitEarlyPrefetch, startEarlyPrefetch, stopEarlyPrefetch } from '../wal/index.js';
import { defaultPgkeepScript, prefetchOf, restoreGlobalArgs, type RecoveryPlan } from './recovery-config.js';
import type { RestoreOptions } from './types.js';

export interface RestorePrefetch {
  /** Why it was not started (recovery's first get starts one). */
  warning?: string;
  ready: () => Promise<void>;
  stop: () => Promise<void>;
}

const NONE: RestorePrefetch = { ready: async () => undefined, stop: async () => undefined };

export function startRestorePrefetch(
  o: RestoreOptions,
  recovery: RecoveryPlan,
  meta: PhysicalBackupMeta,
  dataDir: string,
  server: { owner?: Owner; canRead: boolean },
): RestorePrefetch {
  const count = prefetchOf(o.access);
  if (!o.startPrefetch || recovery.mode !== 'archive-recovery' || !recovery.fromRepository || count === 0) return NONE;
  // The server's user runs it from the data directory: the directory's owner is set now (its mode
  // stays 0700 and its mtime is set at finish; global/pg_control, written last, keeps a server
  // from starting on a half-restored directory whoever owns it).
  if (!server.canRead) return NONE; // it would fail as restore_command will (restore warns about that)
  if (server.owner) chownSync(dataDir, server.owner.uid, server.owner.gid);
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
  if ('skipped' in r)
    return { ...NONE, warning: `the prefetcher was not started before the server (${r.skipped}): recovery's first get starts it` };
  return {
    ready: () => awaitEarlyPrefetch(r.spoolDir, r.child).then(() => undefined),
    stop: () => stopEarlyPrefetch(r.spoolDir, r.child),
  };
}
