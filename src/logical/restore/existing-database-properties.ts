/**
 * --all into a database that exists (template1, postgres...): its settings, owner, grants and
 * comment too, not only its contents.
 */

import type { TocEntry } from '../toc/index.js';
import type { DbStep } from './database-step.js';
import { isExpectedCreateError, restoreDatabaseProperties } from './database-level.js';
import { toRestoredErrors, unexplained } from './restored-errors.js';
import { maintenanceDb } from './target-server.js';
import type { RestoredError } from './types.js';

/** The errors found (expected ones apart, as `ignored` texts). */
export async function restoreExistingDatabaseProperties(
  s: DbStep,
  entries: TocEntry[],
  tmp: string,
  archive: string | undefined,
): Promise<{ errors: RestoredError[]; ignored: string[] }> {
  const { o, c } = s;
  s.progress({ step: 'database settings, owner, grants and comment' });
  const props = await restoreDatabaseProperties({
    pgRestore: c.pgRestore!,
    psql: c.psql!,
    entries,
    tmp,
    archive,
    input: () => o.repo.readFile(s.snapshot, s.db.path, { signal: o.signal }),
    connectDb: maintenanceDb(s.target.db),
    env: s.env(),
    noOwner: o.noOwner,
    signal: o.signal,
  });
  const found = [
    ...(props ? [...toRestoredErrors(props.extract, undefined), ...unexplained(props.extract, 'pg_restore')] : []),
    ...(props?.apply ? [...toRestoredErrors(props.apply, undefined), ...unexplained(props.apply, 'psql')] : []),
  ];
  return {
    errors: found.filter((e) => !isExpectedCreateError(e.message)),
    ignored: found.filter((e) => isExpectedCreateError(e.message)).map((e) => e.text),
  };
}
