/** What each step of restoring one database is given. */

import type { Snapshot } from '../../repo/index.js';
import type { DumpedDatabase } from '../meta.js';
import { libpqEnv, withDatabase } from '../tools/libpq-env.js';
import type { DbContext, DbTarget } from './database-target.js';
import { maintenanceDb } from './target-server.js';
import type { RestoreDumpOptions, RestoreProgress } from './types.js';

export interface DbStep {
  o: RestoreDumpOptions;
  snapshot: Snapshot;
  db: DumpedDatabase;
  c: DbContext;
  target: DbTarget;
  progress: (p: Omit<RestoreProgress, 'part'>) => void;
  /** The database the tool connects to: the maintenance database while the target is to be created. */
  connectDb: () => string;
  env: () => ReturnType<typeof libpqEnv>;
}

export function dbStep(o: RestoreDumpOptions, snapshot: Snapshot, db: DumpedDatabase, c: DbContext, target: DbTarget): DbStep {
  const connectDb = () => (target.mode === 'create' ? maintenanceDb(target.db) : target.db);
  return {
    o,
    snapshot,
    db,
    c,
    target,
    connectDb,
    progress: (p) => o.onProgress?.({ part: db.name, ...p }),
    env: () => libpqEnv(withDatabase(c.params, connectDb())),
  };
}
