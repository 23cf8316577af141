/**
 * `pgkeep restore-dump`: a logical snapshot back into a server.
 *
 *   1. read the snapshot and its dump meta
 *   2. decide the target (--into, --create, --into-url) and check the options against the format
 *   3. find pg_restore / psql of the dump's major or newer
 *   4. --all: globals first (psql), then every database
 *   5. each database: select TOC entries (--table/--schema) into a -L list; with several jobs
 *      (--jobs, default the cores, at most 4) restore it section by section, its rows through
 *      several sessions (sections-restore.ts); with one, pg_restore reading the archive from
 *      the repository; psql for plain SQL
 *      Every session gets maintenance_work_mem for index builds (index-build-memory.ts).
 *   6. report errors with the object they belong to; stop at the first one unless
 *      --continue-on-error
 */

import { withRepoLockWarnings } from '../../repo/with-lock.js';
import type { ClusterSettings } from '../../config/types.js';
import { resolveConnection } from '../../pg/connect.js';
import { checkOptions, pickDatabases } from './check-options.js';
import { restoreGlobals } from './globals.js';
import { loadDumpSnapshot } from './load-snapshot.js';
import { stoppedError } from './restored-errors.js';
import { databaseWarnings, restoreDatabase } from './restore-database.js';
import { restoreJobs } from './restore-jobs.js';
import { withIndexBuildMemory } from './index-build-memory.js';
import { findRestoreTools } from './restore-tools.js';
import { existingDatabases, requireDatabase } from './target-server.js';
import type { RestoreDumpOptions, RestoreDumpResult, RestoredPart } from './types.js';

export type { RestoreDumpOptions, RestoreDumpResult, RestoredError, RestoredPart, RestoreProgress } from './types.js';
export { objectLabel } from './restored-errors.js';
export { loadDumpSnapshot } from './load-snapshot.js';

export async function restoreDump(o: RestoreDumpOptions): Promise<RestoreDumpResult> {
  // A shared lock keeps `repo gc` from repacking the packs while they are read.
  return withRepoLockWarnings(o.repo, 'shared', 'restore-dump', o.clusterName, () => restoreDumpUnlocked(o));
}

async function restoreDumpUnlocked(given: RestoreDumpOptions): Promise<RestoreDumpResult> {
  const started = Date.now();
  const { snapshot, meta } = await loadDumpSnapshot(given.repo, given.clusterName, given.id);
  checkOptions(given, meta);
  const databases = pickDatabases(given, meta);
  const target: ClusterSettings = given.intoUrl ? { ...given.cluster, connection: given.intoUrl } : given.cluster;
  const asGiven = resolveConnection(target, { database: given.into });
  const jobs = await restoreJobs(given, meta, asGiven);
  const o = { ...given, jobs, defaultJobs: given.jobs === undefined };
  const params = await withIndexBuildMemory(asGiven, jobs, o.signal);
  const { pgRestore, psql } = await findRestoreTools(o, meta);
  const warnings: string[] = [];
  if (meta.globals?.noRolePasswords)
    warnings.push('the dump has no role passwords (taken with --no-role-passwords): set them after the restore');

  const parts: RestoredPart[] = [];
  const stopIfFailed = (p: RestoredPart) => {
    if (p.errors.length && !o.continueOnError) throw stoppedError(p, snapshot.id);
  };
  if (meta.globals && (o.all || meta.scope === 'globals')) {
    const p = await restoreGlobals(o, snapshot, meta, psql!, params);
    parts.push(p);
    stopIfFailed(p);
  }
  const existing = o.all ? await existingDatabases(params, o.signal) : undefined;
  if (!o.all && !o.create) await requireDatabase(params, o.signal);
  for (const db of databases) {
    o.signal?.throwIfAborted();
    const p = await restoreDatabase(o, snapshot, meta, db, { params, pgRestore, psql, existing });
    parts.push(p);
    warnings.push(...databaseWarnings(o, db, p));
    stopIfFailed(p);
  }
  return {
    snapshotId: snapshot.id,
    format: meta.format,
    parts,
    errorCount: parts.reduce((s, p) => s + p.errors.length, 0),
    jobs: o.jobs,
    seconds: (Date.now() - started) / 1000,
    warnings,
  };
}
