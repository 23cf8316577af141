/** Real, completed WAL segments of a test cluster, to push with `pgkeep wal push` like archive_command does. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalCluster } from '../pg/local-cluster.js';

export function walDir(cluster: LocalCluster): string {
  return join(cluster.dataDir, 'pg_wal');
}

/**
 * Switch segments until at least `n` completed segments (before the one being written now) sit
 * in pg_wal, and return the newest `n` of them, oldest first. wal_keep_size keeps them there.
 */
export async function completedSegments(cluster: LocalCluster, n: number): Promise<string[]> {
  for (let i = 0; i < n; i++) {
    await cluster.exec(`CREATE TEMP TABLE wal_filler AS SELECT g FROM generate_series(1, 2000) g; SELECT pg_switch_wal();`);
  }
  const [row] = await cluster.query<{ current: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS current');
  const current = row!.current;
  const done = readdirSync(walDir(cluster))
    .filter((f) => /^[0-9A-F]{24}$/.test(f) && f < current)
    .sort();
  if (done.length < n) throw new Error(`only ${done.length} completed WAL segments in ${walDir(cluster)}, ${n} wanted`);
  return done.slice(-n);
}
