import { PgkeepError } from '../../errors.js';
import type { Repository, Snapshot } from '../../repo/index.js';
import { resolveSnapshotRef } from '../../holdings/snapshot-ref.js';
import { dumpMetaOf, type DumpMeta } from '../meta.js';

/** The snapshot `id` of the cluster and its dump meta; a physical backup is refused. */
export async function loadDumpSnapshot(repo: Repository, clusterName: string, id: string): Promise<{ snapshot: Snapshot; meta: DumpMeta }> {
  const snapshot = await repo.readSnapshot(clusterName, await resolveSnapshotRef(repo, clusterName, id, 'logical'));
  const meta = snapshot.kind === 'logical' ? dumpMetaOf(snapshot.meta) : undefined;
  if (!meta) {
    throw new PgkeepError('USAGE', `snapshot ${snapshot.id} is a ${snapshot.kind} backup, not a dump`, {
      hint: 'restore physical backups with "pgkeep restore"; "pgkeep list" shows the kind of every snapshot',
    });
  }
  return { snapshot, meta };
}
