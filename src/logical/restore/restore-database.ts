/** One database of the dump into the target: the steps. */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Snapshot } from '../../repo/index.js';
import type { DumpedDatabase, DumpMeta } from '../meta.js';
import { archiveSource } from './archive-source.js';
import { dbStep, type DbStep } from './database-step.js';
import { chooseTarget, type DbContext } from './database-target.js';
import { restoreExistingDatabaseProperties } from './existing-database-properties.js';
import { pgRestoreArgs } from './pg-restore-args.js';
import { restorePlainDatabase } from './plain-database.js';
import { toRestoredErrors, unexplained } from './restored-errors.js';
import { runRestoreTool } from './run-restore.js';
import { selectEntries } from './selection.js';
import { canRestoreInSections, restoreInSections } from './sections-restore.js';
import type { RestoreDumpOptions, RestoredPart } from './types.js';

export async function restoreDatabase(
  o: RestoreDumpOptions,
  snapshot: Snapshot,
  meta: DumpMeta,
  db: DumpedDatabase,
  c: DbContext,
): Promise<RestoredPart> {
  const started = Date.now();
  const s = dbStep(o, snapshot, db, c, await chooseTarget(o, meta, db, c));
  if (meta.format === 'plain') return restorePlainDatabase(s, started);

  const tmp = mkdtempSync(join(tmpdir(), 'pgkeep-restore-'));
  try {
    const { listFile, entries, skipped, ids } = await selectEntries(s, tmp);
    const jobs = o.jobs ?? 1;
    const sections = jobs > 1 && canRestoreInSections(s);
    // One pg_restore -j N over a custom archive reads a copy on disk: only when --jobs asked for it.
    if (!sections && o.defaultJobs && meta.format === 'custom') s.o = { ...o, jobs: 1 };
    const { errors, archive } = sections
      ? await restoreInSections(s, jobs, tmp, ids ? new Set(ids) : undefined, listFile)
      : await restoreInOneRun(s, meta, tmp, listFile);
    const ignored: string[] = [];
    if (o.all && s.target.mode === 'into' && db.toc && (!errors.length || o.continueOnError)) {
      const props = await restoreExistingDatabaseProperties(s, db.toc.entries, tmp, archive);
      errors.push(...props.errors);
      ignored.push(...props.ignored);
    }
    return {
      name: db.name,
      target: s.target.db,
      mode: s.target.mode,
      ...(entries !== undefined ? { entries } : {}),
      skipped,
      ignored,
      errors,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** One pg_restore for the whole archive: streamed from the repository, or (--jobs, directory format) from a copy on disk. */
async function restoreInOneRun(s: DbStep, meta: DumpMeta, tmp: string, listFile: string | undefined) {
  const { o, c, db } = s;
  const { archive, input } = await archiveSource(s, meta, tmp);
  const r = await runRestoreTool({
    tool: c.pgRestore!,
    args: pgRestoreArgs({
      database: s.connectDb(),
      create: s.target.mode === 'create',
      clean: o.clean,
      noOwner: o.noOwner,
      jobs: o.jobs,
      continueOnError: o.continueOnError,
      listFile,
      archive,
    }),
    env: s.env(),
    input,
    signal: o.signal,
    onStep: (step) => s.progress({ step }),
    onBytes: (bytes) => s.progress({ bytes }),
  });
  return { errors: [...toRestoredErrors(r, db.toc?.entries), ...unexplained(r, 'pg_restore')], archive };
}

/** What the user should know about one restored database besides its errors. */
export function databaseWarnings(o: RestoreDumpOptions, db: DumpedDatabase, p: RestoredPart): string[] {
  const warnings: string[] = [];
  if (o.all && p.mode === 'into' && db.toc && !db.toc.entries.some((e) => e.type === 'DATABASE')) {
    warnings.push(
      `database ${db.name}: only its contents were restored; its settings, owner, grants and comment are not in this dump (taken by an older pgkeep)`,
    );
  }
  if (p.skipped.length)
    warnings.push(
      `database ${db.name}: left out ${p.skipped.length} entr${p.skipped.length === 1 ? 'y' : 'ies'} that need objects not restored: ${p.skipped.slice(0, 5).join('; ')}`,
    );
  return warnings;
}
