/** Replication slots and how much WAL each holds (doctor's advice and the monitor's slot check). */
import type { Queryable } from './queryable.js';

export interface SlotFacts {
  name: string;
  type: 'physical' | 'logical';
  active: boolean;
  /** reserved | extended | unreserved | lost (null when it never reserved WAL). */
  walStatus: string | null;
  /** Bytes of WAL between restart_lsn and the current WAL position (null when none reserved). */
  heldBytes: number | null;
  /** Bytes that can still be written before the slot is lost (null = no limit). */
  safeWalSize: number | null;
}

export async function slotFacts(db: Queryable, inRecovery: boolean): Promise<SlotFacts[]> {
  const current = inRecovery ? 'pg_last_wal_receive_lsn()' : 'pg_current_wal_lsn()';
  const { rows } = await db.query(`
    SELECT slot_name, slot_type, active, wal_status,
           CASE WHEN restart_lsn IS NULL THEN NULL ELSE pg_wal_lsn_diff(${current}, restart_lsn)::bigint END AS held,
           safe_wal_size::bigint AS safe
      FROM pg_replication_slots ORDER BY slot_name`);
  return rows.map((r) => ({
    name: r.slot_name as string,
    type: r.slot_type === 'logical' ? 'logical' : 'physical',
    active: Boolean(r.active),
    walStatus: (r.wal_status as string | null) ?? null,
    heldBytes: r.held === null ? null : Math.max(0, Number(r.held)),
    safeWalSize: r.safe === null ? null : Number(r.safe),
  }));
}
