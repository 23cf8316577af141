/** The chosen backup's method and major version (pg_dump must be at least the sandbox's major). */
import { readPhysicalMeta } from '../../holdings/read-physical-meta.js';
import type { Repository } from '../../repo/repository.js';

export async function backupFacts(
  repo: Pick<Repository, 'readManifest'>,
  cluster: string,
  id: string,
): Promise<{ method: string; major: number }> {
  const m = await repo.readManifest(cluster, id); // only this one: another damaged manifest does not matter
  if (m.kind !== 'physical') return { method: '', major: 0 };
  const meta = readPhysicalMeta(m);
  return { method: meta.method, major: Math.floor(meta.serverVersionNum / 10000) };
}
