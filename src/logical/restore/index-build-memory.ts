/**
 * maintenance_work_mem for the sessions of a restore. pg_restore builds indexes, adds primary
 * keys and refreshes materialized views with the server's setting, 64 MB unless the DBA raised
 * it; an index of a few million rows then sorts on disk. A restore raises it for its own
 * sessions only (libpq's `options`, as PGOPTIONS would): to 512 MB, or to an eighth of this
 * machine's memory shared by the jobs when that is less (the server is usually on this machine
 * or a bigger one). Never lowered: a server or role that has more keeps it. The user's own
 * `-c maintenance_work_mem=...` (PGOPTIONS or `options` in the connection string) comes after
 * ours, so it wins.
 */
import { totalmem } from 'node:os';
import type { ConnectionParams } from '../../pg/connect.js';
import { withParams } from '../tools/libpq-env.js';
import { maintenanceDb, onDatabase } from './target-server.js';

const MiB = 1024 * 1024;
/** The most a restore gives each of its sessions. */
export const INDEX_BUILD_MEMORY_MAX = 512 * MiB;

/** Bytes per session for `jobs` sessions on a machine of `memory` bytes. */
export function indexBuildMemory(jobs: number, memory = totalmem()): number {
  const share = Math.floor(memory / 8 / Math.max(1, jobs) / MiB) * MiB;
  return Math.min(INDEX_BUILD_MEMORY_MAX, share);
}

/** `params` with maintenance_work_mem raised for every session the restore opens, if the server has less. */
export async function withIndexBuildMemory(params: ConnectionParams, jobs: number, signal?: AbortSignal): Promise<ConnectionParams> {
  const wanted = indexBuildMemory(jobs);
  const has = await onDatabase(params, maintenanceDb(params.database), signal, async (c) => {
    const { rows } = await c.query(`SELECT pg_size_bytes(current_setting('maintenance_work_mem'))::bigint AS b`);
    return Number((rows[0] as { b: string }).b);
  });
  if (has >= wanted) return params;
  return withParams(params, { options: indexBuildOptions(wanted, params.options) });
}

/** libpq options setting maintenance_work_mem to `bytes`, before the user's own (a later -c wins). */
export function indexBuildOptions(bytes: number, userOptions?: string): string {
  return `-c maintenance_work_mem=${Math.floor(bytes / MiB)}MB${userOptions ? ` ${userOptions}` : ''}`;
}
