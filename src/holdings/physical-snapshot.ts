/**
 * Find a physical snapshot by id or "latest" (the newest physical snapshot of the cluster), with
 * its meta read and checked (read-physical-meta.ts). Used by restore and its planning (pitr/).
 */
import { PgkeepError } from '../errors.js';
import type { Repository, Snapshot } from '../repo/index.js';
import { resolveSnapshotRef, type SnapshotRefSource } from './snapshot-ref.js';
import type { PhysicalBackupMeta } from './physical-meta.js';
import { readPhysicalMeta } from './read-physical-meta.js';

export interface ResolvedSnapshot {
  snapshot: Snapshot;
  meta: PhysicalBackupMeta;
}

/**
 * `idOrLatest`: a snapshot id, or "latest" / "latest-physical" for the newest physical snapshot of
 * `cluster` (snapshot-ref.ts: one meaning of "latest" for every command).
 * NOT_FOUND when there is none; USAGE when the id names a logical dump.
 */
export async function resolveSnapshot(
  repo: SnapshotRefSource & Pick<Repository, 'readSnapshot'>,
  cluster: string,
  idOrLatest: string,
): Promise<ResolvedSnapshot> {
  const snapshot = await repo.readSnapshot(cluster, await resolveSnapshotRef(repo, cluster, idOrLatest, 'physical'));
  if (snapshot.kind !== 'physical') {
    throw new PgkeepError('USAGE', `snapshot ${snapshot.id} of cluster "${cluster}" is a ${snapshot.kind} dump, not a physical backup`, {
      hint: 'use "pgkeep restore-dump" for logical dumps; "pgkeep list" shows the kind of every snapshot',
      details: { cluster, id: snapshot.id, kind: snapshot.kind },
    });
  }
  return { snapshot, meta: readPhysicalMeta(snapshot) };
}
