/**
 * The environment that points a libpq client tool (pg_dump, pg_restore, pg_dumpall, psql) at a
 * resolved connection. Everything goes through PG* variables, never the command line: the
 * password stays out of `ps`, and a database name is never parsed as a connection string.
 */
import type { ConnectionParams } from '../../pg/connect.js';

/** Variables libpq reads that could redirect a tool elsewhere; removed before ours are set. */
const LIBPQ_VARS = [
  'PGHOST',
  'PGHOSTADDR',
  'PGPORT',
  'PGDATABASE',
  'PGUSER',
  'PGPASSWORD',
  'PGPASSFILE',
  'PGSERVICE',
  'PGSERVICEFILE',
  'PGOPTIONS',
  'PGAPPNAME',
  'PGSSLMODE',
  'PGREQUIRESSL',
  'PGSSLCERT',
  'PGSSLKEY',
  'PGSSLROOTCERT',
  'PGSSLCRL',
  'PGCONNECT_TIMEOUT',
  'PGTARGETSESSIONATTRS',
  'PGCHANNELBINDING',
  'PGGSSENCMODE',
];

export function libpqEnv(p: ConnectionParams, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const k of LIBPQ_VARS) delete env[k];
  env.PGHOST = p.host;
  if (p.hostaddr) env.PGHOSTADDR = p.hostaddr;
  env.PGPORT = String(p.port);
  env.PGUSER = p.user;
  env.PGDATABASE = p.database;
  if (p.password !== undefined) env.PGPASSWORD = p.password;
  else env.PGPASSFILE = '/dev/null'; // we already looked; do not let the tool prompt or guess
  env.PGSSLMODE = p.sslmode;
  if (p.sslrootcert) env.PGSSLROOTCERT = p.sslrootcert;
  if (p.sslcert) env.PGSSLCERT = p.sslcert;
  if (p.sslkey) env.PGSSLKEY = p.sslkey;
  if (p.options) env.PGOPTIONS = p.options;
  if (p.connectTimeout) env.PGCONNECT_TIMEOUT = String(p.connectTimeout);
  env.PGAPPNAME = p.applicationName ?? 'pgkeep';
  return env;
}

/** The same connection to another database of the server. */
export function withDatabase(p: ConnectionParams, database: string): ConnectionParams {
  return withParams(p, { database });
}

/** The same connection with some fields changed; the password stays out of JSON, as in the original. */
export function withParams(p: ConnectionParams, changes: Partial<Omit<ConnectionParams, 'password'>>): ConnectionParams {
  const copy = { ...p, ...changes };
  Object.defineProperty(copy, 'password', { value: p.password, enumerable: false, writable: true, configurable: true });
  return copy;
}
