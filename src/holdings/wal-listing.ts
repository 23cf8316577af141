/**
 * What the archive of a cluster holds, from one listing of `wal/<cluster>/`: per system
 * identifier, the segments, .partial and .backup files per timeline, and the history files.
 * Shared by `wal check`, `expire` and the restore planner (pitr/).
 */
import type { Repository } from '../repo/index.js';
import type { WalFileName } from '../pg/wal-name.js';
import { parseWalObjectName, walClusterPrefix } from './wal-layout.js';

export interface ArchivedFile {
  /** Logical object name. */
  object: string;
  /** Stored key (with codec and encryption suffixes). */
  key: string;
  file: WalFileName;
  /** Stored size. */
  size: number;
}

export interface ArchivedSystem {
  systemIdentifier: string;
  /** Segments, .partial and .backup files, in name order. */
  files: ArchivedFile[];
  /** History files by timeline. */
  histories: Map<number, ArchivedFile>;
  storedBytes: number;
}

export async function listArchive(repo: Pick<Repository, 'listObjects'>, cluster: string): Promise<Map<string, ArchivedSystem>> {
  const systems = new Map<string, ArchivedSystem>();
  for await (const o of repo.listObjects(walClusterPrefix(cluster))) {
    const ref = parseWalObjectName(o.name);
    if (!ref || ref.cluster !== cluster) continue;
    let s = systems.get(ref.systemId);
    if (!s) systems.set(ref.systemId, (s = { systemIdentifier: ref.systemId, files: [], histories: new Map(), storedBytes: 0 }));
    const f: ArchivedFile = { object: o.name, key: o.key, file: ref.file, size: o.size };
    s.storedBytes += o.size;
    if (ref.file.kind === 'history') s.histories.set(ref.file.timeline, f);
    else s.files.push(f);
  }
  for (const s of systems.values()) s.files.sort((a, b) => (a.file.name < b.file.name ? -1 : a.file.name > b.file.name ? 1 : 0));
  return systems;
}
