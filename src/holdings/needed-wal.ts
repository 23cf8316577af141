/**
 * The archived WAL a hot, non-standalone backup needs to become consistent — every segment from
 * the one holding its start LSN to the one holding its stop LSN, on its timeline — read back
 * and checked (envelope checksum, decompression, page headers). Used by `verify` and, before
 * anything is written, by `restore`.
 */
import type { Repository } from '../repo/index.js';
import { parseLsn } from '../pg/lsn.js';
import { parseWalFileName } from '../pg/wal-name.js';
import { walObjectName } from './wal-layout.js';
import { readArchivedFiles } from './wal-read.js';
import type { ArchivedFile } from './wal-listing.js';
import type { PhysicalBackupMeta } from './physical-meta.js';
import { walRange } from '../pg/wal/range.js';

export interface NeededWalReport {
  /** Segments checked, in order (first and last are the backup's walStart and walEnd). */
  segments: string[];
  /** Segments read back and found right. */
  ok: number;
  problems: { file: string; problem: string; missing: boolean }[];
}

/** True when the backup needs WAL from the archive to become consistent. */
export function needsArchivedWal(meta: PhysicalBackupMeta): boolean {
  return meta.method !== 'cold' && !meta.standalone && Boolean(meta.walStart);
}

export async function checkNeededWal(
  repo: Pick<Repository, 'statObject' | 'getObject'>,
  cluster: string,
  meta: PhysicalBackupMeta,
  opts: { signal?: AbortSignal; concurrency?: number } = {},
): Promise<NeededWalReport> {
  const range = walRange(meta.timeline, parseLsn(meta.startLsn), parseLsn(meta.stopLsn), meta.walSegmentSize);
  const out: NeededWalReport = { segments: range.segments, ok: 0, problems: [] };
  const present: { file: ArchivedFile; systemIdentifier: string }[] = [];
  for (const name of range.segments) {
    opts.signal?.throwIfAborted();
    const object = walObjectName(cluster, meta.systemIdentifier, name);
    const info = await repo.statObject(object);
    if (info)
      present.push({
        file: { object, key: info.key, file: parseWalFileName(name), size: info.size },
        systemIdentifier: meta.systemIdentifier,
      });
    else
      out.problems.push({ file: name, problem: 'needed to make the backup consistent, but it is not in the WAL archive', missing: true });
  }
  const read = await readArchivedFiles(repo, present, { concurrency: opts.concurrency, signal: opts.signal });
  out.ok = read.read;
  for (const d of read.damaged)
    out.problems.push({ file: d.file, problem: `archived copy ${d.key} is damaged: ${d.problem}`, missing: false });
  out.problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return out;
}
