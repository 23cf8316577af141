/** The chosen backup's method and major version (pg_dump must be at least the sandbox's major). */
import type { PhysicalBackupMeta } from '../../backup/meta.js';
import type { Repository } from '../../repo/repository.js';

export async function backupFacts(repo: Pick<Repository, 'readManifest'>, cluster: string, id: string): Promise<{ method: string; major: number }> {
  const m = await repo.readManifest(cluster, id); // only this one: another damaged manifest does not matter
  const meta = (m.meta ?? {}) as Partial<PhysicalBackupMeta>;
  return { method: String(meta.method ?? ''), major: Math.floor(Number(meta.serverVersionNum ?? 0) / 10000) };
}
