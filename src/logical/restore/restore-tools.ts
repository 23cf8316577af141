import type { PgTool } from '../../pg/tools.js';
import type { DumpMeta } from '../meta.js';
import { findNeededTool, restoreNeeds } from '../tools/tool-needs.js';
import type { RestoreDumpOptions } from './types.js';

/** pg_restore (archives) and psql (plain SQL, globals) of at least the major of the pg_dump that wrote the dump (tools/tool-needs.ts). */
export async function findRestoreTools(o: RestoreDumpOptions, meta: DumpMeta): Promise<{ pgRestore?: PgTool; psql?: PgTool }> {
  const out: { pgRestore?: PgTool; psql?: PgTool } = {};
  for (const need of restoreNeeds(meta)) {
    const tool = await findNeededTool(need, o.cluster.pgBin);
    if (need.tool === 'pg_restore') out.pgRestore = tool;
    else out.psql = tool;
  }
  return out;
}
