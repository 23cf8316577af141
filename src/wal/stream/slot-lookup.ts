/**
 * Reading a replication slot, on every supported server: PostgreSQL 15+ answers
 * READ_REPLICATION_SLOT on the walsender connection itself; 13 and 14 do not have it, and a
 * physical walsender (replication=true) runs no SQL, so there pgkeep asks pg_replication_slots
 * over a short normal connection with the same settings (the configured database, user and
 * authentication). A replication role's connection often names no database, and libpq then
 * asks for one named like the role, which rarely exists: then the `postgres` database is asked
 * (the view is the same in every database). restart_tli is not in that view: it is only
 * READ_REPLICATION_SLOT's.
 */
import pg from 'pg';
import type { ClusterSettings } from '../../config/types.js';
import { PgkeepError } from '../../errors.js';
import { parseLsn } from '../../pg/lsn.js';
import { withClient } from '../../pg/connect.js';
import { checkSlotName, type ReplicationClient, type ReplicationSlotInfo } from '../../pg/protocol/index.js';

type SlotRow = { slot_type: string; restart_lsn: string | null };

/** SQLSTATE of "database ... does not exist". */
const INVALID_CATALOG_NAME = '3D000';

async function slotRows(settings: ClusterSettings, name: string, signal?: AbortSignal, database?: string): Promise<SlotRow[]> {
  return withClient(settings, { signal, applicationName: 'pgkeep wal stream', ...(database ? { database } : {}) }, async (client) => {
    const res = await client.query<SlotRow>(
      'SELECT slot_type, restart_lsn::text AS restart_lsn FROM pg_catalog.pg_replication_slots WHERE slot_name = $1',
      [name],
    );
    return res.rows;
  });
}

/** First major with READ_REPLICATION_SLOT. */
export const READ_SLOT_COMMAND_MAJOR = 15;

/** The slot as the server knows it; null when it has no slot of that name. */
export async function readSlot(
  rc: ReplicationClient,
  settings: ClusterSettings,
  name: string,
  signal?: AbortSignal,
): Promise<ReplicationSlotInfo | null> {
  if (rc.serverMajor >= READ_SLOT_COMMAND_MAJOR) return rc.readReplicationSlot(name);
  checkSlotName(name);
  let rows: SlotRow[];
  try {
    rows = await slotRows(settings, name, signal).catch((e: unknown) => {
      if (!(e instanceof PgkeepError && e.details?.reason === INVALID_CATALOG_NAME)) throw e;
      return slotRows(settings, name, signal, 'postgres');
    });
  } catch (e) {
    if (signal?.aborted || !(e instanceof PgkeepError || e instanceof pg.DatabaseError)) throw e;
    const err = e instanceof PgkeepError ? e : new PgkeepError('CONNECTION', e.message);
    throw new PgkeepError(err.code, `cannot read replication slot "${name}": ${err.message}`, {
      hint:
        `PostgreSQL ${rc.serverMajor} has no READ_REPLICATION_SLOT, so pgkeep reads pg_replication_slots over a normal ` +
        'connection with the same settings: let the role connect to the configured database, or to "postgres" when that ' +
        'does not exist (pg_hba.conf, CONNECT privilege)' +
        (err.hint ? `; ${err.hint}` : ''),
      details: { ...err.details, slot: name, serverMajor: rc.serverMajor },
      cause: e,
    });
  }
  const row = rows[0];
  if (!row) return null;
  return {
    slotType: row.slot_type === 'logical' ? 'logical' : 'physical',
    restartLsn: row.restart_lsn === null ? null : parseLsn(row.restart_lsn),
    restartTimeline: null,
  };
}
