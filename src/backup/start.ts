/**
 * Step "start" of a `local` backup: pg_backup_start(label, fast) — pg_start_backup(label, fast,
 * false) before PostgreSQL 15 — on the session that stays open until pg_backup_stop (a
 * non-exclusive backup ends when its session ends). For --standalone a temporary physical
 * replication slot is created first on the same session: it keeps every WAL segment from its
 * restart point (the last checkpoint's redo, before the backup's start) until the session ends,
 * so the segments the backup needs are still in pg_wal when they are copied after the stop.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { PgkeepError } from '../errors.js';
import { parseLsn } from '../pg/lsn.js';
import { sessionLostError, type SessionWatch } from '../pg/session-lost.js';
import type { StartInfo } from './types.js';

export async function createTemporarySlot(client: pg.Client): Promise<string | undefined> {
  const name = `pgkeep_backup_${process.pid}_${randomBytes(3).toString('hex')}`;
  try {
    await client.query('SELECT pg_create_physical_replication_slot($1, true, true)', [name]);
    return name;
  } catch {
    return undefined;
  }
}

/** `fast`: an immediate checkpoint (else a spread one, --checkpoint spread). */
export async function startLocalBackup(
  client: pg.Client,
  major: number,
  label: string,
  session?: SessionWatch,
  fast = true,
): Promise<StartInfo> {
  const sql = major >= 15 ? 'SELECT pg_backup_start($1, $2)::text AS lsn' : 'SELECT pg_start_backup($1, $2, false)::text AS lsn';
  let lsn: string;
  let timeline: number;
  try {
    const { rows } = await client.query(sql, [label, fast]);
    lsn = rows[0].lsn;
    timeline = Number((await client.query('SELECT timeline_id FROM pg_control_checkpoint()')).rows[0].timeline_id);
  } catch (e) {
    throw backupFunctionError(e, major >= 15 ? 'pg_backup_start' : 'pg_start_backup', session);
  }
  return { startLsn: parseLsn(lsn), timeline, startTime: new Date() };
}

export function backupFunctionError(e: unknown, fn: string, session?: SessionWatch): PgkeepError {
  if (e instanceof PgkeepError) return e;
  const lost = sessionLostError(e, session, fn, "the backup's session", 'the backup ended with it and nothing was published');
  if (lost) return lost;
  const err = e as { code?: string; message?: string };
  const msg = err.message ?? String(e);
  if (/WAL level not sufficient/i.test(msg)) {
    return new PgkeepError('SERVER_NOT_READY', `${fn} failed: ${msg}`, {
      hint: 'set wal_level = replica in postgresql.conf and restart the server',
      cause: e,
    });
  }
  if (err.code === '42501') {
    return new PgkeepError('SERVER_NOT_READY', `${fn} failed: ${msg}`, {
      hint: `connect as a superuser, or GRANT EXECUTE ON FUNCTION ${fn} TO the backup role`,
      cause: e,
    });
  }
  if (err.code === '55000' && /in progress/i.test(msg)) {
    return new PgkeepError('CONFLICT', `${fn} failed: ${msg}`, {
      hint: 'another backup is running on this session or server; wait for it to finish',
      cause: e,
    });
  }
  return new PgkeepError('SERVER_NOT_READY', `${fn} failed: ${msg}`, { cause: e });
}
