/** Where the server writes WAL now, as a segment name (the archive's lag is counted from it). */
import type { Queryable } from './queryable.js';

export interface WalPosition {
  /** The segment being written (null on a standby, which writes none of its own). */
  currentWalFile: string | null;
  /** wal_segment_size in bytes. */
  segmentSize: number;
}

export async function walPosition(db: Queryable): Promise<WalPosition> {
  const { rows } = await db.query(`
    SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END AS current,
           (SELECT setting::bigint * CASE unit WHEN '8kB' THEN 8192 WHEN 'MB' THEN 1048576 ELSE 1 END
              FROM pg_settings WHERE name = 'wal_segment_size') AS seg`);
  return { currentWalFile: rows[0].current ?? null, segmentSize: Number(rows[0].seg) };
}
