/**
 * The snapshot a new backup is incremental to: the newest physical snapshot of the same cluster
 * (and the same PostgreSQL system). None for the first backup.
 */
import type { Repository, SnapshotManifest } from '../repo/index.js';

export async function findPreviousBackup(repo: Repository, cluster: string, systemIdentifier: string): Promise<SnapshotManifest | undefined> {
  const manifests = await repo.listSnapshots(cluster);
  for (let i = manifests.length - 1; i >= 0; i--) {
    const m = manifests[i]!;
    if (m.kind === 'physical' && (m.meta as { systemIdentifier?: string }).systemIdentifier === systemIdentifier) return m;
  }
  return undefined;
}
