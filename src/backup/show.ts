/** `pgkeep show <id|latest>`: one snapshot's facts, and optionally its files. */
import type { FileRecord, Repository, SnapshotManifest } from '../repo/index.js';
import { resolveSnapshotRef } from '../holdings/index.js';
import { summarize, type BackupSummary } from './list.js';

export interface ShowOptions {
  files?: boolean;
}

export interface ShownFile {
  path: string;
  type: FileRecord['type'];
  mode: string;
  size: number;
  mtime: string;
  owner?: string;
  group?: string;
  sha256?: string;
  linkTarget?: string;
  chunks: number;
}

export interface BackupDetails {
  cluster: string;
  summary: BackupSummary;
  stats: SnapshotManifest['stats'];
  chunkSize: number;
  previous: string | null;
  /** The snapshot's meta as recorded, checked (read it with readPhysicalMeta or readDumpMeta). */
  meta: Record<string, unknown>;
  files?: ShownFile[];
}

/** `id` is a snapshot id, "latest" (the newest snapshot of any kind), "latest-physical" or "latest-logical". */
export async function showBackup(repo: Repository, cluster: string, id: string, opts: ShowOptions = {}): Promise<BackupDetails> {
  const snap = await repo.readSnapshot(cluster, await resolveSnapshotRef(repo, cluster, id, 'any'));
  const m = snap.manifest;
  const out: BackupDetails = {
    cluster,
    summary: summarize(m), // reads the meta (physical or dump), checked: a damaged one is refused here, not rendered
    stats: m.stats,
    chunkSize: m.chunkSize,
    previous: m.previous,
    meta: m.meta,
  };
  if (opts.files) {
    out.files = [];
    for await (const r of snap.files()) {
      out.files.push({
        path: r.path,
        type: r.type,
        mode: (r.mode & 0o7777).toString(8).padStart(4, '0'),
        size: r.size,
        mtime: new Date(r.mtimeMs).toISOString(),
        ...(r.owner ? { owner: r.owner } : {}),
        ...(r.group ? { group: r.group } : {}),
        ...(r.sha256 ? { sha256: r.sha256 } : {}),
        ...(r.linkTarget ? { linkTarget: r.linkTarget } : {}),
        chunks: r.chunks.length,
      });
    }
  }
  return out;
}
