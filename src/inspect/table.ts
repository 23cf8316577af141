/** `inspect --table`: one table's columns, size and indexes. */
import { PgkeepError } from '../errors.js';
import { RELKINDS, findRelation, listColumns, listIndexes, listRelations, type Queryable } from '../pg/catalog.js';
import type { TableDetail } from './types.js';

export async function readTableDetail(db: Queryable, database: string, name: string): Promise<TableDetail> {
  const ref = await findRelation(db, name);
  if (!ref) {
    throw new PgkeepError('NOT_FOUND', `no table "${name}" in database "${database}"`, {
      hint:
        `name it as schema.table (quote mixed-case names: '"MyTable"'), pick the database with --database, ` +
        `or list the tables with: pgkeep inspect --database ${database}`,
      details: { database, table: name },
    });
  }
  const relation =
    ref.kind === 'v' ? undefined : (await listRelations(db, [ref.kind])).find((r) => r.schema === ref.schema && r.name === ref.name);
  return {
    database,
    schema: ref.schema,
    name: ref.name,
    kind: RELKINDS[ref.kind] ?? ref.kind,
    ...(relation ? { relation } : {}),
    columns: await listColumns(db, ref.oid),
    indexes: await listIndexes(db, { schema: ref.schema, name: ref.name }),
  };
}
