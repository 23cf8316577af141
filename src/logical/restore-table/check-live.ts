/**
 * Step "check": everything that can be refused is refused before any work — the live database
 * is reachable, the new name's schema exists and this role may create tables in it, the role can
 * give the copy its owner (the original's, unless --no-owner), the new name is free (no relation
 * and no type of that name; the table's own name is free only once it was dropped), and
 * pg_dump/pg_restore fit the server.
 */
import { dirname } from 'node:path';
import { PgkeepError } from '../../errors.js';
import type { ClusterSettings } from '../../config/types.js';
import { withClient } from '../../pg/connect.js';
import { findPgTool, type PgTool } from '../../pg/bin.js';
import { dumpNeed, findNeededTool } from '../tools/tool-needs.js';
import { displayQualified } from '../identifiers.js';
import { wrapServerError } from '../server-error.js';
import type { TableNames } from './names.js';

export interface LiveFacts {
  database: string;
  serverVersion: string;
  major: number;
  /** The bootstrap superuser (OID 10): the role the sandbox is entered as. */
  bootstrapSuperuser: string;
  /** The original table still exists in the live database. */
  originalExists: boolean;
}

export async function checkLive(
  cluster: ClusterSettings,
  names: TableNames,
  database: string | undefined,
  signal?: AbortSignal,
  opts: { noOwner?: boolean } = {},
): Promise<LiveFacts> {
  const { source, target } = names;
  const row = await withClient(cluster, { database, signal }, async (c) => {
    try {
      const r = await c.query(
        `select current_database() as db, current_setting('server_version') as version,
          current_setting('server_version_num')::int as num,
          (select rolname from pg_roles where oid = 10) as bootstrap,
          exists (select 1 from pg_namespace where nspname = $1) as schema_exists,
          array(select case c.relkind when 'r' then 'table' when 'p' then 'partitioned table' when 'i' then 'index'
                  when 'I' then 'partitioned index' when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'materialized view'
                  when 'f' then 'foreign table' when 'c' then 'composite type' else 'relation' end
                from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2
                union all
                select 'type' from pg_type t join pg_namespace n on n.oid = t.typnamespace
                 where n.nspname = $1 and t.typname = $2 and t.typrelid = 0) as taken,
          exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                   where n.nspname = $3 and c.relname = $4) as original,
          current_user as me,
          case when exists (select 1 from pg_namespace where nspname = $1) then has_schema_privilege($1, 'CREATE') end as can_create,
          (select pg_get_userbyid(c.relowner) from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = $3 and c.relname = $4) as owner,
          (select pg_has_role(c.relowner, 'MEMBER') from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = $3 and c.relname = $4) as may_own`,
        [target.schema, target.name, source.schema, source.name],
      );
      return r.rows[0];
    } catch (e) {
      throw wrapServerError(e, 'checking the live database');
    }
  });
  const db = String(row.db);
  if (!row.schema_exists) {
    throw new PgkeepError('NOT_FOUND', `schema ${displayQualified({ name: target.schema })} does not exist in database ${db}`, {
      hint: `create it first (CREATE SCHEMA ...), or restore into another schema with --as SCHEMA.NAME`,
      details: { database: db, schema: target.schema },
    });
  }
  // Privileges now, not after hours of sandbox restore and recovery.
  if (row.can_create === false) {
    throw new PgkeepError(
      'SERVER_NOT_READY',
      `role ${String(row.me)} may not create tables in schema ${displayQualified({ name: target.schema })} of database ${db}`,
      {
        hint: `GRANT CREATE ON SCHEMA ${displayQualified({ name: target.schema })} TO ${String(row.me)}, connect as a role that may, or restore into another schema with --as SCHEMA.NAME`,
        details: { database: db, schema: target.schema, role: String(row.me) },
      },
    );
  }
  if (!opts.noOwner && row.may_own === false) {
    throw new PgkeepError(
      'SERVER_NOT_READY',
      `role ${String(row.me)} cannot give the restored copy its owner, ${String(row.owner)} (it is not a member of that role)`,
      {
        hint: `restore with --no-owner (the copy then belongs to ${String(row.me)}), connect as ${String(row.owner)} or a superuser, or GRANT ${String(row.owner)} TO ${String(row.me)}`,
        details: { database: db, role: String(row.me), owner: String(row.owner) },
      },
    );
  }
  const taken = row.taken as string[];
  if (taken.length) {
    throw new PgkeepError(
      'CONFLICT',
      `${displayQualified(target)} already exists in database ${db} (${taken[0]}): restore-table never replaces anything`,
      {
        hint: 'choose another name with --as NAME, or drop or rename the existing one first',
        details: { database: db, schema: target.schema, name: target.name, existing: taken },
      },
    );
  }
  const num = Number(row.num);
  return {
    database: db,
    serverVersion: String(row.version),
    major: Math.floor(num / 10000),
    bootstrapSuperuser: String(row.bootstrap ?? 'postgres'),
    originalExists: Boolean(row.original),
  };
}

export interface DumpTools {
  pgDump: PgTool;
  pgRestore: PgTool;
}

/** pg_dump of a major >= the server's (and the sandbox's), and a pg_restore that reads its archives. */
export async function findDumpTools(minMajor: number, pgBin?: string): Promise<DumpTools> {
  const pgDump = await findNeededTool(dumpNeed('pg_dump', minMajor), pgBin);
  const pgRestore = await findPgTool('pg_restore', { minMajor: pgDump.major, pgBin: dirname(pgDump.path) });
  return { pgDump, pgRestore };
}
