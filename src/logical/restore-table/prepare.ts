/**
 * Step "prepare", in the promoted sandbox (a throwaway, so it may be changed): find the table as
 * it was at the target time, cut what would tie the copy to other live objects, and give the
 * table and its own schema-level objects their new names, in one transaction, so pg_dump writes
 * them under those names.
 *
 * - partition of / inheritance child of another table: detached (the copy is a plain table);
 * - inheritance parent: its own rows only (its children are tables of their own);
 * - foreign keys to other tables: dropped (the copy must not constrain or be constrained by
 *   the live data; a foreign key to itself stays);
 * - indexes (and the constraints they back), owned sequences (serial, identity), extended
 *   statistics: renamed so they do not collide with the original's (names.ts);
 * - another schema (--as SCHEMA.NAME): the table is moved there.
 * Extended statistics are returned with their definitions: pg_dump -t (15) does not dump them.
 */
import { PgkeepError } from '../../errors.js';
import type { LocalCluster } from '../../pg/local-cluster.js';
import { displayQualified, quoteIdent, quoteQualified } from '../identifiers.js';
import { isServerError, wrapServerError } from '../server-error.js';
import { planRenames, type Dependent, type TableNames } from './names.js';
import type { RenamedObject } from './types.js';

export interface PrepareInput {
  sandbox: LocalCluster;
  database: string;
  names: TableNames;
  /** Names in use in the live database: relations and statistics objects, per schema. */
  liveNames: (catalog: 'relation' | 'statistics', schema: string) => Promise<Set<string>>;
  /** For messages: "backup X recovered to T". */
  where: string;
}

export interface Prepared {
  renamed: RenamedObject[];
  left: string[];
  /** Rows of the table at the target time. */
  rows: number;
  /** Extended statistics on the renamed table (pg_dump -t of PostgreSQL 15 leaves them out). */
  statistics: { schema: string; name: string; definition: string }[];
}

interface TableRow {
  oid: string;
  relkind: string;
  relispartition: boolean;
}

export async function prepareInSandbox(i: PrepareInput): Promise<Prepared> {
  const { sandbox, database, names } = i;
  const { source, target } = names;
  const q = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
    try {
      return await sandbox.query<T>(sql, params, database);
    } catch (e) {
      if (isServerError(e) && e.code === '3D000') {
        throw new PgkeepError('NOT_FOUND', `database ${database} did not exist at the target time (${i.where})`, {
          hint: 'choose a later --as-of time, or check --database',
          cause: e,
        });
      }
      throw wrapServerError(e, 'reading the table in the sandbox');
    }
  };

  const [table] = await q<TableRow>(
    `select c.oid::text as oid, c.relkind::text as relkind, c.relispartition
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`,
    [source.schema, source.name],
  );
  if (!table) {
    const similar = await q<{ name: string }>(
      `select n.nspname || '.' || c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p') and lower(c.relname) = lower($1) and n.nspname not in ('pg_catalog', 'information_schema') order by 1 limit 5`,
      [source.name],
    );
    throw new PgkeepError(
      'NOT_FOUND',
      `table ${displayQualified(source)} did not exist in database ${database} at the target time (${i.where})`,
      {
        hint: similar.length
          ? `tables of a similar name then: ${similar.map((s) => s.name).join(', ')} (write a mixed-case name in double quotes)`
          : 'check the schema and name (an unqualified name means schema public), the database (--database) and the time (--as-of)',
        details: { database, schema: source.schema, table: source.name },
      },
    );
  }
  if (table.relkind === 'p') {
    throw new PgkeepError(
      'UNSUPPORTED',
      `${displayQualified(source)} is a partitioned table; restore-table brings back one plain table at a time`,
      {
        hint: 'restore its partitions one by one (--table SCHEMA.PARTITION), each becomes a plain table',
      },
    );
  }
  if (table.relkind !== 'r') {
    const kinds: Record<string, string> = {
      v: 'a view',
      m: 'a materialized view',
      S: 'a sequence',
      f: 'a foreign table',
      i: 'an index',
      c: 'a composite type',
    };
    throw new PgkeepError(
      'USAGE',
      `${displayQualified(source)} is ${kinds[table.relkind] ?? `a relation of kind ${table.relkind}`}, not a table`,
      {
        hint: 'restore-table restores tables (with their data); use "pgkeep dump" / "restore-dump" for other objects',
      },
    );
  }
  // Under its own name (--as the original, dropped since): nothing is renamed.
  const sameName = source.schema === target.schema && source.name === target.name;
  const clash = sameName
    ? []
    : await q<{ schema: string }>(
        `select n.nspname as schema from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relname = $1 and n.nspname in ($2, $3)`,
        [target.name, source.schema, target.schema],
      );
  if (clash.length) {
    throw new PgkeepError(
      'CONFLICT',
      `at the target time ${displayQualified({ schema: clash[0]!.schema, name: target.name })} existed already in database ${database}, so the table cannot take that name there`,
      {
        hint: 'choose another name with --as NAME',
      },
    );
  }

  const oid = table.oid;
  const parents = await q<{ schema: string; name: string }>(
    `select n.nspname as schema, p.relname as name from pg_inherits h
      join pg_class p on p.oid = h.inhparent join pg_namespace n on n.oid = p.relnamespace where h.inhrelid = $1::oid`,
    [oid],
  );
  const fks = await q<{ name: string; ref: string }>(
    `select conname as name, confrelid::regclass::text as ref from pg_constraint
      where conrelid = $1::oid and contype = 'f' and confrelid <> $1::oid order by conname`,
    [oid],
  );
  const deps = await q<Dependent>(
    `select 'index' as kind, n.nspname as schema, i.relname as name
        from pg_index x join pg_class i on i.oid = x.indexrelid join pg_namespace n on n.oid = i.relnamespace where x.indrelid = $1::oid
      union all
      select 'sequence', n.nspname, s.relname from pg_depend d join pg_class s on s.oid = d.objid join pg_namespace n on n.oid = s.relnamespace
        where d.classid = 'pg_class'::regclass and d.refclassid = 'pg_class'::regclass and d.refobjid = $1::oid
          and s.relkind = 'S' and d.deptype in ('a', 'i')
      union all
      select 'statistics', n.nspname, x.stxname from pg_statistic_ext x join pg_namespace n on n.oid = x.stxnamespace where x.stxrelid = $1::oid
      order by 1, 3`,
    [oid],
  );

  // Names in use on either side, where each object will end up (a move takes indexes and owned sequences along).
  const moving = target.schema !== source.schema;
  const finalSchema = (kind: Dependent['kind'], schema: string) => (moving && kind !== 'statistics' ? target.schema : schema);
  const catalogOf = (kind: Dependent['kind']) => (kind === 'statistics' ? 'statistics' : 'relation');
  const sandboxNames = async (catalog: 'relation' | 'statistics', schema: string): Promise<string[]> =>
    (
      await q<{ n: string }>(
        catalog === 'relation'
          ? 'select c.relname as n from pg_class c join pg_namespace s on s.oid = c.relnamespace where s.nspname = $1'
          : 'select x.stxname as n from pg_statistic_ext x join pg_namespace s on s.oid = x.stxnamespace where s.nspname = $1',
        [schema],
      )
    ).map((r) => r.n);
  const taken = new Map<string, Set<string>>();
  for (const d of deps) {
    const catalog = catalogOf(d.kind);
    const key = `${catalog}\0${d.schema}`;
    if (taken.has(key)) continue;
    const end = finalSchema(d.kind, d.schema);
    const set = new Set<string>();
    for (const s of new Set([d.schema, end])) for (const n of await sandboxNames(catalog, s)) set.add(n);
    for (const n of await i.liveNames(catalog, end)) set.add(n);
    taken.set(key, set);
  }
  const renames = sameName
    ? []
    : planRenames(source.name, target.name, deps, (kind, schema) => taken.get(`${catalogOf(kind)}\0${schema}`)!);

  const sql: string[] = ['BEGIN'];
  const left: string[] = [];
  const self = quoteQualified(source);
  for (const p of parents) {
    sql.push(
      table.relispartition
        ? `ALTER TABLE ${quoteQualified(p)} DETACH PARTITION ${self}`
        : `ALTER TABLE ${self} NO INHERIT ${quoteQualified(p)}`,
    );
    left.push(
      table.relispartition
        ? `detached from its partitioned table ${displayQualified(p)} (the copy is a plain table)`
        : `no longer inherits from ${displayQualified(p)}`,
    );
  }
  for (const fk of fks) {
    sql.push(`ALTER TABLE ${self} DROP CONSTRAINT ${quoteIdent(fk.name)}`);
    left.push(`foreign key ${fk.name} (to ${fk.ref}) left out`);
  }
  const keyword = { index: 'INDEX', sequence: 'SEQUENCE', statistics: 'STATISTICS' } as const;
  for (const r of renames) {
    sql.push(
      `ALTER ${keyword[r.kind as keyof typeof keyword]} ${quoteQualified({ schema: r.schema, name: r.from })} RENAME TO ${quoteIdent(r.to)}`,
    );
  }
  if (!sameName) sql.push(`ALTER TABLE ${self} RENAME TO ${quoteIdent(target.name)}`);
  if (moving) {
    sql.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target.schema)}`);
    sql.push(`ALTER TABLE ${quoteQualified({ schema: source.schema, name: target.name })} SET SCHEMA ${quoteIdent(target.schema)}`);
  }
  sql.push('COMMIT');
  try {
    await sandbox.exec(sql.join(';\n'), database);
  } catch (e) {
    throw wrapServerError(e, `renaming ${displayQualified(source)} to ${displayQualified(target)} in the sandbox`);
  }
  // ONLY: the table's own rows, as pg_dump -t dumps them and verify counts them (children stay behind).
  const [count] = await q<{ n: string }>(`select count(*)::text as n from only ${quoteQualified(target)}`);
  const [children] = await q<{ n: string }>('select count(*)::text as n from pg_inherits where inhparent = $1::oid', [oid]);
  if (Number(children!.n)) {
    left.push(`its ${children!.n} inheritance child table(s) are not part of the copy (only its own rows are): restore each with --table`);
  }
  const statistics = await q<{ schema: string; name: string; definition: string }>(
    `select n.nspname as schema, x.stxname as name,
      pg_get_statisticsobjdef(x.oid) as definition from pg_statistic_ext x join pg_namespace n on n.oid = x.stxnamespace
      where x.stxrelid = $1::oid order by x.stxname`,
    [oid],
  );
  const moved = (r: RenamedObject): RenamedObject => ({ ...r, schema: finalSchema(r.kind as Dependent['kind'], r.schema) });
  return {
    renamed: [{ kind: 'table', schema: source.schema, from: source.name, to: target.name }, ...renames.map(moved)],
    left,
    rows: Number(count!.n),
    statistics,
  };
}
