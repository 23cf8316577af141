/**
 * Pinned backups are kept by every retention policy. A pin is a small repository object
 * `pins/<cluster>/<snapshot id>` (JSON: when, and an optional note). A backup is named as in
 * every command (holdings/snapshot-ref.ts): its id, the start of one, or "latest".
 */
import { PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';
import { idAmong, isLatestRef, resolveSnapshotRef, type SnapshotRefSource } from '../holdings/index.js';

export interface Pin {
  id: string;
  pinnedAt: string;
  note?: string;
}

type PinRepo = SnapshotRefSource & Pick<Repository, 'putObject' | 'getObject' | 'deleteObject' | 'listObjects'>;

export function pinObjectName(cluster: string, id: string): string {
  return `pins/${cluster}/${id}`;
}

export async function listPins(repo: PinRepo, cluster: string): Promise<Pin[]> {
  const out: Pin[] = [];
  const prefix = `pins/${cluster}/`;
  for await (const o of repo.listObjects(prefix)) {
    const id = o.name.slice(prefix.length);
    if (id.includes('/')) continue;
    try {
      out.push({ id, ...(JSON.parse((await repo.getObject(o.name)).toString('utf8')) as Omit<Pin, 'id'>) });
    } catch {
      out.push({ id, pinnedAt: new Date(o.mtimeMs).toISOString() });
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/**
 * The id of the existing snapshot `ref` names (id, start of one, latest); USAGE when the start
 * is ambiguous, NOT_FOUND (`what` leading the message) when no snapshot has it.
 */
export async function existingSnapshotId(repo: PinRepo, cluster: string, ref: string, what = `snapshot ${ref}`): Promise<string> {
  const id = await resolveSnapshotRef(repo, cluster, ref, 'any');
  const ids = await repo.listSnapshotIds(cluster);
  if (!ids.includes(id)) {
    throw new PgkeepError('NOT_FOUND', `${what}: cluster "${cluster}" has no such backup in ${repo.location}`, {
      hint: ids.length ? `existing snapshots: ${ids.slice(-10).join(', ')}` : 'take a backup first',
    });
  }
  return id;
}

export async function pinSnapshot(repo: PinRepo, cluster: string, ref: string, note?: string): Promise<Pin> {
  const id = await existingSnapshotId(repo, cluster, ref);
  const pin: Pin = { id, pinnedAt: new Date().toISOString(), ...(note ? { note } : {}) };
  const { id: _id, ...body } = pin;
  await repo.putObject(pinObjectName(cluster, id), Buffer.from(JSON.stringify(body) + '\n', 'utf8'));
  return pin;
}

/** Removes the pin `ref` names (among the pins: a pin may outlive its snapshot); returns the id unpinned. */
export async function unpinSnapshot(repo: PinRepo, cluster: string, ref: string): Promise<string> {
  const id = isLatestRef(ref)
    ? await resolveSnapshotRef(repo, cluster, ref, 'any')
    : idAmong(
        (await listPins(repo, cluster)).map((p) => p.id),
        cluster,
        ref,
      );
  if (!(await repo.deleteObject(pinObjectName(cluster, id)))) {
    throw new PgkeepError('NOT_FOUND', `snapshot ${id} of cluster "${cluster}" is not pinned`, { hint: 'list pins with "pgkeep pin"' });
  }
  return id;
}
