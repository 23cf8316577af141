/** What restore-dump does on the target server itself: which databases exist, creating a database or schemas. */

import type pg from 'pg';
import { PgkeepError } from '../../errors.js';
import { connectWith, type ConnectionParams } from '../../pg/connect.js';
import { quoteIdent } from '../identifiers.js';
import { wrapServerError } from '../server-error.js';
import { withDatabase } from '../tools/libpq-env.js';

export async function existingDatabases(params: ConnectionParams, signal?: AbortSignal): Promise<Set<string>> {
  return onDatabase(
    params,
    maintenanceDb(params.database),
    signal,
    async (c) => new Set((await c.query('select datname from pg_database')).rows.map((r) => String(r.datname))),
  );
}

/** A restore --into goes into a database that exists: a missing one is NOT_FOUND, before pg_restore runs. */
export async function requireDatabase(params: ConnectionParams, signal?: AbortSignal): Promise<void> {
  if ((await existingDatabases(params, signal)).has(params.database)) return;
  throw new PgkeepError('NOT_FOUND', `database ${params.database} does not exist on the target server`, {
    hint: `create it first (createdb ${params.database}), restore with --create to recreate the dumped database under its own name, or choose another --into`,
    details: { database: params.database },
  });
}

/** A database to connect to while creating (or dropping) `db`. */
export function maintenanceDb(db: string): string {
  return db === 'postgres' ? 'template1' : 'postgres';
}

export async function onDatabase<T>(
  params: ConnectionParams,
  db: string,
  signal: AbortSignal | undefined,
  fn: (c: pg.Client) => Promise<T>,
): Promise<T> {
  const client = await connectWith(withDatabase(params, db), { signal });
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function createDatabase(params: ConnectionParams, name: string, signal?: AbortSignal): Promise<void> {
  await onDatabase(params, maintenanceDb(name), signal, async (c) => {
    try {
      await c.query(`CREATE DATABASE ${quoteIdent(name)}`);
    } catch (e) {
      throw wrapServerError(e, `creating database ${name}`);
    }
  });
}

export async function ensureSchemas(params: ConnectionParams, db: string, schemas: string[], signal?: AbortSignal): Promise<void> {
  if (!schemas.length) return;
  await onDatabase(params, db, signal, async (c) => {
    for (const s of schemas) {
      try {
        await c.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s)}`);
      } catch (e) {
        throw wrapServerError(e, `creating schema ${s} in database ${db}`);
      }
    }
  });
}
