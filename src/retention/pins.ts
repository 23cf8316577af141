/**
 * Pinned backups are kept by every retention policy. A pin is a small repository object
 * `pins/<cluster>/<snapshot id>` (JSON: when, and an optional note).
 */
import { PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';

export interface Pin {
  id: string;
  pinnedAt: string;
  note?: string;
}

type PinRepo = Pick<Repository, 'putObject' | 'getObject' | 'deleteObject' | 'listObjects' | 'listSnapshotIds' | 'location'>;

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

export async function pinSnapshot(repo: PinRepo, cluster: string, id: string, note?: string): Promise<Pin> {
  const ids = await repo.listSnapshotIds(cluster);
  if (!ids.includes(id)) {
    throw new PgkeepError('NOT_FOUND', `snapshot ${id} of cluster "${cluster}" does not exist in ${repo.location}`, {
      hint: ids.length ? `existing snapshots: ${ids.slice(-10).join(', ')}` : 'take a backup first',
    });
  }
  const pin: Pin = { id, pinnedAt: new Date().toISOString(), ...(note ? { note } : {}) };
  const { id: _id, ...body } = pin;
  await repo.putObject(pinObjectName(cluster, id), Buffer.from(JSON.stringify(body) + '\n', 'utf8'));
  return pin;
}

export async function unpinSnapshot(repo: PinRepo, cluster: string, id: string): Promise<void> {
  if (!(await repo.deleteObject(pinObjectName(cluster, id)))) {
    throw new PgkeepError('NOT_FOUND', `snapshot ${id} of cluster "${cluster}" is not pinned`, { hint: 'list pins with "pgkeep pin"' });
  }
}
