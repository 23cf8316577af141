/**
 * How many jobs restore one database: --jobs, or by default the cores of this machine, at most
 * 4 (the server is usually as big as the machine pgkeep runs on, or bigger). Every job holds one
 * connection to the target server, so the server must have that many free: a --jobs it cannot
 * serve is refused before anything is restored, and the default is lowered to what it can.
 */
import { availableParallelism } from 'node:os';
import { PgkeepError } from '../../errors.js';
import type { ConnectionParams } from '../../pg/connect.js';
import type { DumpMeta } from '../meta.js';
import { maintenanceDb, onDatabase } from './target-server.js';
import type { RestoreDumpOptions } from './types.js';

export const DEFAULT_MAX_JOBS = 4;

interface ConnectionRoom {
  max: number;
  inUse: number;
  reserved: number;
  free: number;
}

export async function restoreJobs(o: RestoreDumpOptions, meta: DumpMeta, params: ConnectionParams): Promise<number> {
  // psql replays plain SQL in one session.
  if (meta.format === 'plain' || meta.scope === 'globals') return 1;
  const wanted = o.jobs ?? Math.min(availableParallelism(), DEFAULT_MAX_JOBS);
  if (wanted <= 1) return 1;
  const room = await connectionRoom(params, o.signal);
  if (wanted <= room.free) return wanted;
  if (o.jobs === undefined) return Math.max(1, room.free);
  throw new PgkeepError(
    'USAGE',
    `--jobs ${wanted} needs ${wanted} connections to the target server, and it has ${room.free} free (max_connections ${room.max}, ${room.inUse} in use${room.reserved ? `, ${room.reserved} reserved for superusers` : ''})`,
    {
      hint:
        room.free >= 1
          ? `use --jobs ${room.free} or fewer, or raise max_connections on the target server`
          : 'wait for connections to end, or raise max_connections on the target server',
      details: { jobs: wanted, ...room },
    },
  );
}

/** Connections the restoring role can still open on the target server. */
async function connectionRoom(params: ConnectionParams, signal?: AbortSignal): Promise<ConnectionRoom> {
  return onDatabase(params, maintenanceDb(params.database), signal, async (c) => {
    const { rows } = await c.query(
      `SELECT current_setting('max_connections')::int AS max,
              (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') - 1 AS in_use,
              CASE WHEN r.rolsuper THEN 0 ELSE current_setting('superuser_reserved_connections')::int END AS reserved,
              r.rolconnlimit AS role_limit,
              (SELECT count(*)::int FROM pg_stat_activity WHERE usename = current_user AND backend_type = 'client backend') - 1 AS role_in_use
         FROM pg_roles r WHERE r.rolname = current_user`,
    );
    const r = rows[0] as { max: number; in_use: number; reserved: number; role_limit: number; role_in_use: number };
    let free = r.max - r.reserved - r.in_use;
    if (r.role_limit >= 0) free = Math.min(free, r.role_limit - r.role_in_use);
    return { max: r.max, inUse: r.in_use, reserved: r.reserved, free: Math.max(0, free) };
  });
}
