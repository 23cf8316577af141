import { findPgTool, type PgTool } from '../../pg/bin.js';
import type { DumpMeta } from '../meta.js';
import type { RestoreDumpOptions } from './types.js';

/** pg_restore of the dump's major or newer (not for plain SQL), psql for plain SQL and globals. */
export async function findRestoreTools(o: RestoreDumpOptions, meta: DumpMeta): Promise<{ pgRestore?: PgTool; psql?: PgTool }> {
  const major = Math.floor(meta.serverVersionNum / 10000);
  const pgBin = o.cluster.pgBin;
  const pgRestore = meta.format === 'plain' ? undefined : await findPgTool('pg_restore', { minMajor: major, pgBin });
  const psql = meta.format === 'plain' || meta.globals ? await findPgTool('psql', { pgBin }) : undefined;
  return { pgRestore, psql };
}
