/**
 * Find a physical snapshot by id or "latest" (the newest physical snapshot of the cluster), with
 * its meta typed. Shared by restore, verify and show.
 */
import { PgkeepError } from '../errors.js';
import type { Repository, Snapshot, SnapshotManifest } from '../repo/index.js';
import type { PhysicalBackupMeta } from './meta.js';

export interface ResolvedSnapshot {
  snapshot: Snapshot;
  meta: PhysicalBackupMeta;
}

/**
 * `idOrLatest`: a snapshot id, or "latest" for the newest physical snapshot of `cluster`.
 * NOT_FOUND when there is none; USAGE when the id names a logical dump.
 */
export async function resolveSnapshot(repo: Repository, cluster: string, idOrLatest: string): Promise<ResolvedSnapshot> {
  let snapshot: Snapshot;
  if (idOrLatest === 'latest') {
    const { physical, snapshots } = await physicalManifests(repo, cluster);
    const newest = physical[physical.length - 1];
    if (!newest) {
      throw new PgkeepError('NOT_FOUND', `cluster "${cluster}" has no physical backups in ${repo.location}`, {
        hint: snapshots
          ? `it has ${snapshots} logical dump(s) (pgkeep list); take a physical backup with "pgkeep backup"`
          : 'take one with "pgkeep backup", or check --cluster and --repo',
        details: { cluster },
      });
    }
    snapshot = await repo.readSnapshot(cluster, newest.id);
  } else {
    snapshot = await repo.readSnapshot(cluster, idOrLatest);
  }
  if (snapshot.kind !== 'physical') {
    throw new PgkeepError('USAGE', `snapshot ${snapshot.id} of cluster "${cluster}" is a ${snapshot.kind} dump, not a physical backup`, {
      hint: 'use "pgkeep restore-dump" for logical dumps; "pgkeep list" shows the kind of every snapshot',
      details: { cluster, id: snapshot.id, kind: snapshot.kind },
    });
  }
  return { snapshot, meta: snapshot.meta as unknown as PhysicalBackupMeta };
}

/**
 * The cluster's physical backups whose manifest can be read, oldest first, and how many readable
 * snapshots it has in all. A damaged manifest is passed over unless it is newer than every
 * readable backup: then it may have been the latest backup, and its DATA_INTEGRITY error is
 * thrown rather than falling back to an older backup without a word.
 */
export async function physicalManifests(repo: Repository, cluster: string): Promise<{ physical: SnapshotManifest[]; snapshots: number }> {
  const { manifests, damaged } = await repo.readSnapshots(cluster);
  const physical = manifests.filter((m) => m.kind === 'physical');
  const newest = physical[physical.length - 1];
  const newer = damaged.filter((d) => !newest || d.id > newest.id).pop();
  if (newer) throw newer.error;
  return { physical, snapshots: manifests.length };
}
