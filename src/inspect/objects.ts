/** One database's objects, read from its own catalogs over a connection to it. */
import { listFunctions, listIndexes, listRelations, listSchemas, listSequences, type Queryable } from '../pg/catalog.js';
import type { DatabaseObjects } from './types.js';

export async function readDatabaseObjects(db: Queryable, database: string): Promise<DatabaseObjects> {
  const relations = await listRelations(db, ['r', 'p', 'f', 'v', 'm']);
  return {
    database,
    schemas: await listSchemas(db),
    tables: relations.filter((r) => r.kind === 'r' || r.kind === 'p' || r.kind === 'f'),
    views: relations.filter((r) => r.kind === 'v'),
    materializedViews: relations.filter((r) => r.kind === 'm'),
    sequences: await listSequences(db),
    functions: await listFunctions(db),
    indexes: await listIndexes(db),
  };
}
