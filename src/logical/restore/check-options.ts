/** The options of restore-dump checked against the dump, and the databases they choose. */

import { PgkeepError } from '../../errors.js';
import type { DumpedDatabase, DumpMeta } from '../meta.js';
import type { RestoreDumpOptions } from './types.js';

export function checkOptions(o: RestoreDumpOptions, meta: DumpMeta): void {
  const selective = (o.tables?.length ?? 0) + (o.schemas?.length ?? 0) > 0;
  if (o.into !== undefined && o.create) throw new PgkeepError('USAGE', '--into and --create exclude each other');
  if (o.all && (o.into !== undefined || o.create || selective || o.sourceDatabase)) {
    throw new PgkeepError(
      'USAGE',
      '--all restores every database under its own name; it takes no --into, --create, --table, --schema or --source-database',
    );
  }
  if (o.all && meta.scope === 'database') {
    throw new PgkeepError('USAGE', 'this snapshot holds one database, not a whole cluster; restore it without --all');
  }
  if (meta.scope === 'globals' && (o.into !== undefined || o.create || selective)) {
    throw new PgkeepError(
      'USAGE',
      'this snapshot holds only roles and tablespaces; restore it without --into, --create, --table or --schema',
    );
  }
  if (!o.all && meta.scope !== 'globals' && o.into === undefined && !o.create && !o.intoUrl) {
    throw new PgkeepError(
      'USAGE',
      'say where to restore: --into DB (an existing database), --create (recreate the dumped database), or --into-url URL',
    );
  }
  if (o.jobs !== undefined && (!Number.isInteger(o.jobs) || o.jobs < 1))
    throw new PgkeepError('USAGE', '--jobs must be a whole number >= 1');
  if (meta.format === 'plain') {
    const bad = selective ? '--table/--schema' : o.clean ? '--clean' : o.noOwner ? '--no-owner' : (o.jobs ?? 1) > 1 ? '--jobs' : undefined;
    if (bad) {
      throw new PgkeepError(
        'UNSUPPORTED',
        `${bad} needs a custom or directory format dump; this one is plain SQL, which psql replays as it is`,
        {
          hint: 'take the dump with --format custom (the default) to restore selectively or in parallel',
        },
      );
    }
  }
}

export function pickDatabases(o: RestoreDumpOptions, meta: DumpMeta): DumpedDatabase[] {
  if (o.all) return meta.databases;
  if (meta.scope === 'globals') return [];
  if (o.sourceDatabase !== undefined) {
    const d = meta.databases.find((x) => x.name === o.sourceDatabase);
    if (!d) {
      throw new PgkeepError('NOT_FOUND', `the snapshot has no database "${o.sourceDatabase}"`, {
        hint: `it holds: ${meta.databases.map((x) => x.name).join(', ')}`,
      });
    }
    return [d];
  }
  if (meta.databases.length !== 1) {
    throw new PgkeepError(
      'USAGE',
      `the snapshot holds ${meta.databases.length} databases (${meta.databases.map((x) => x.name).join(', ')})`,
      {
        hint: 'restore them all with --all, or choose one with --source-database NAME',
      },
    );
  }
  return meta.databases;
}
