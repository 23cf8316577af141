/**
 * What the server says about a replication slot. 15+ answers READ_REPLICATION_SLOT on the
 * replication connection; 13 and 14 lack that command (and a physical replication connection
 * cannot run SQL), so there the slot is read from pg_replication_slots over a regular connection
 * with the same settings.
 */
import type { ClusterSettings } from '../../config/types.js';
import { withClient } from '../../pg/connect.js';
import { parseLsn } from '../../pg/lsn.js';
import type { ReplicationClient } from '../../pg/protocol/index.js';

export interface SlotInfo {
  slotType: 'physical' | 'logical';
  restartLsn: ReturnType<typeof parseLsn> | null;
}

export async function readSlot(rc: ReplicationClient, connection: ClusterSettings, name: string, signal?: AbortSignal): Promise<SlotInfo | null> {
  if (rc.serverMajor >= 15) return rc.readReplicationSlot(name);
  return withClient(connection, { signal }, async (c) => {
    const { rows } = await c.query<{ t: string; r: string | null }>(
      'select slot_type::text as t, restart_lsn::text as r from pg_catalog.pg_replication_slots where slot_name = $1', [name]);
    const row = rows[0];
    if (!row) return null;
    return { slotType: row.t === 'logical' ? 'logical' : 'physical', restartLsn: row.r === null ? null : parseLsn(row.r) };
  });
}
