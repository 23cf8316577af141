/**
 * When each archived segment arrived (its object's modification time, on a directory and on S3
 * alike): what places the WAL of `wal check` on a time axis. The segments and gaps themselves
 * are `wal check`'s; this listing only adds their times.
 */
import type { Repository } from '../repo/index.js';
import { parseWalObjectName, walClusterPrefix } from '../holdings/index.js';

export interface SegmentTime {
  system: string;
  timeline: number;
  name: string;
  ms: number;
}

/** Every archived segment of a cluster with its archive time, in name order per system. */
export async function listSegmentTimes(repo: Pick<Repository, 'listObjects'>, cluster: string): Promise<SegmentTime[]> {
  const out: SegmentTime[] = [];
  for await (const o of repo.listObjects(walClusterPrefix(cluster))) {
    const ref = parseWalObjectName(o.name);
    if (!ref || ref.cluster !== cluster || ref.file.kind !== 'segment') continue;
    out.push({ system: ref.systemId, timeline: ref.file.timeline, name: ref.file.name, ms: o.mtimeMs });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
