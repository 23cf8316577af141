import { PgkeepError } from '../../errors.js';
import type { Repository, Snapshot } from '../../repo/index.js';
import { readDumpMeta, resolveSnapshotRef, type DumpMeta } from '../../holdings/index.js';

/** The snapshot `id` of the cluster and its dump meta (checked); a physical backup is refused. */
export async function loadDumpSnapshot(repo: Repository, clusterName: string, id: string): Promise<{ snapshot: Snapshot; meta: DumpMeta }> {
  const snapshot = await repo.readSnapshot(clusterName, await resolveSnapshotRef(repo, clusterName, id, 'logical'));
  if (snapshot.kind !== 'logical') {
    throw new PgkeepError('USAGE', `snapshot ${snapshot.id} is a ${snapshot.kind} backup, not a dump`, {
      hint: 'restore physical backups with "pgkeep restore"; "pgkeep list" shows the kind of every snapshot',
    });
  }
  return { snapshot, meta: readDumpMeta(snapshot) };
}
