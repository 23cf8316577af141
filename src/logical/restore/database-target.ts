/** Where one database of the dump goes, and how (into an existing database, or created). */

import type { ConnectionParams } from '../../pg/connect.js';
import type { PgTool } from '../../pg/bin.js';
import { PgkeepError } from '../../errors.js';
import type { DumpedDatabase, DumpMeta } from '../meta.js';
import { createDatabase } from './target-server.js';
import type { RestoreDumpOptions, RestoredPart } from './types.js';

/** What every database of one restore shares: the target server and the tools. */
export interface DbContext {
  params: ConnectionParams;
  pgRestore?: PgTool;
  psql?: PgTool;
  existing?: Set<string>;
}

/** The target database; `mode` turns from 'create' to 'into' when pgkeep creates it itself. */
export interface DbTarget {
  mode: RestoredPart['mode'];
  db: string;
}

/** Where: --all puts each database under its own name (into it when it exists already). */
export async function chooseTarget(o: RestoreDumpOptions, meta: DumpMeta, db: DumpedDatabase, c: DbContext): Promise<DbTarget> {
  let mode: RestoredPart['mode'];
  let targetDb: string;
  if (o.all) {
    const exists = c.existing!.has(db.name);
    mode = exists && !o.clean ? 'into' : 'create';
    targetDb = db.name;
    if (meta.format === 'plain' && db.createsDatabase === false) {
      // template1 and postgres: dumped without CREATE DATABASE, replayed into the one there.
      if (!exists) await createDatabase(c.params, targetDb, o.signal);
      mode = 'into';
    } else if (meta.format === 'plain' && exists) {
      throw new PgkeepError('CONFLICT', `database ${db.name} exists on the target, and a plain-format dump can only create it`, {
        hint: 'drop it first, or restore from a custom-format dump',
      });
    }
  } else if (o.create) {
    mode = 'create';
    targetDb = db.name;
  } else {
    mode = 'into';
    targetDb = c.params.database;
  }
  return { mode, db: targetDb };
}
