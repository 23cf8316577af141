/**
 * The snapshot a new backup is incremental to: the newest physical snapshot of the same cluster
 * (and the same PostgreSQL system). None for the first backup. A snapshot whose manifest is
 * damaged is passed over with a warning: a damaged old backup must not prevent taking a new one.
 */
import { PgkeepError } from '../errors.js';
import { readPhysicalMeta } from '../holdings/read-physical-meta.js';
import type { Repository, SnapshotManifest } from '../repo/index.js';

export async function findPreviousBackup(
  repo: Repository,
  cluster: string,
  systemIdentifier: string,
  warn: (message: string) => void = () => undefined,
): Promise<SnapshotManifest | undefined> {
  const { manifests, damaged } = await repo.readSnapshots(cluster);
  for (const d of damaged) {
    warn(
      `snapshot ${d.id} of cluster ${cluster} cannot be read (${d.error.message}); it is left out, and is not restorable: run "pgkeep repo check"`,
    );
  }
  for (let i = manifests.length - 1; i >= 0; i--) {
    const m = manifests[i]!;
    if (m.kind === 'physical' && systemOf(m, warn) === systemIdentifier) return m;
  }
  return undefined;
}

/** The backup's system identifier; undefined, with a warning, when its meta is damaged. */
function systemOf(m: SnapshotManifest, warn: (message: string) => void): string | undefined {
  try {
    return readPhysicalMeta(m).systemIdentifier;
  } catch (e) {
    if (!(e instanceof PgkeepError) || e.code !== 'DATA_INTEGRITY') throw e;
    warn(`${e.message}; it is left out, and is not restorable: run "pgkeep repo check"`);
    return undefined;
  }
}
