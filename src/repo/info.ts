/** `repo info`: what the repository is and how much it holds. */
import type { Repository } from './repository.js';
import { packIdFromKey } from './pack-format.js';
import { parseManifestKey } from './manifest.js';
import type { TempFilesSummary } from './temp-files.js';
import { temporarySummary } from './check.js';

export interface RepoInfo {
  location: string;
  format: string;
  version: number;
  id: string;
  created: string;
  encryption: string;
  compression: string;
  chunkSize: number;
  packSize: number;
  clusters: { name: string; snapshots: number; latest: string | null }[];
  snapshots: number;
  /** Sum of every snapshot's file sizes (shared chunks counted in each snapshot). */
  logicalBytes: number;
  /** Size of every object in the repository. */
  storedBytes: number;
  packs: number;
  packBytes: number;
  /** Other objects (WAL, manifests...). */
  objects: number;
  objectBytes: number;
  /** logicalBytes / storedBytes (0 when empty). */
  ratio: number;
  /** Temporary files left by interrupted writers (not counted in storedBytes). */
  tempFiles: TempFilesSummary;
}

export async function repositoryInfo(repo: Repository): Promise<RepoInfo> {
  const c = repo.config;
  const info: RepoInfo = {
    location: repo.location,
    format: c.format,
    version: c.version,
    id: c.id,
    created: c.created,
    encryption: c.encryption ? `${c.encryption.cipher}, key from ${c.encryption.kdf.name}` : 'none',
    compression: c.compression,
    chunkSize: c.chunkSize,
    packSize: c.packSize,
    clusters: [],
    snapshots: 0,
    logicalBytes: 0,
    storedBytes: 0,
    packs: 0,
    packBytes: 0,
    objects: 0,
    objectBytes: 0,
    ratio: 0,
    tempFiles: await temporarySummary(repo),
  };
  const byCluster = new Map<string, string[]>();
  for await (const o of repo.driver.list('')) {
    info.storedBytes += o.size;
    if (packIdFromKey(o.key)) {
      info.packs++;
      info.packBytes += o.size;
      continue;
    }
    info.objects++;
    info.objectBytes += o.size;
    const m = parseManifestKey(o.key);
    if (m) {
      const ids = byCluster.get(m.cluster) ?? [];
      ids.push(m.id);
      byCluster.set(m.cluster, ids);
    }
  }
  for (const [name, ids] of [...byCluster.entries()].sort()) {
    ids.sort();
    info.clusters.push({ name, snapshots: ids.length, latest: ids[ids.length - 1] ?? null });
    info.snapshots += ids.length;
    for (const id of ids) info.logicalBytes += (await repo.readManifest(name, id)).stats.logicalBytes;
  }
  info.ratio = info.storedBytes > 0 ? Math.round((info.logicalBytes / info.storedBytes) * 100) / 100 : 0;
  return info;
}
