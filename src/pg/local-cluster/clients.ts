/** Talking to a throwaway cluster as its superuser over the unix socket: a pg client, or psql. */
import pg from 'pg';
import { PgkeepError } from '../../errors.js';
import { findPgTool } from '../bin.js';
import { runProgram } from '../server-user.js';
import { tail } from './output-text.js';

export interface SocketTarget {
  socketDir: string;
  port: number;
  user: string;
  database: string;
}

/** A client for `fn`, ended afterwards. Socket connections as the superuser are trusted by initdb's pg_hba.conf (setHba keeps that). */
export async function withSuperuserClient<R>(t: SocketTarget, fn: (c: pg.Client) => Promise<R>): Promise<R> {
  const client = new pg.Client({
    host: t.socketDir,
    port: t.port,
    user: t.user,
    database: t.database,
    password: async () => undefined,
    ssl: false,
    application_name: 'pgkeep-local-cluster',
  } as unknown as pg.ClientConfig);
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** psql -X -q with ON_ERROR_STOP against the cluster; returns stdout. */
export async function runPsql(t: SocketTarget & { binDir: string }, args: string[], input?: string): Promise<string> {
  // psql of any major talks to any server; the npm server binaries have none, so look beyond binDir.
  const psql = await findPgTool('psql', { pgBin: t.binDir });
  const r = await runProgram(
    psql.path,
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', t.socketDir, '-p', String(t.port), '-U', t.user, '-d', t.database, ...args],
    { asServerUser: false, input, env: { PGCONNECT_TIMEOUT: '30' } },
  );
  if (r.code !== 0) throw new PgkeepError('SERVER_NOT_READY', `psql ${args.join(' ')} failed (exit ${r.code}): ${tail(r.stderr, 10)}`);
  return r.stdout;
}
