/**
 * Per file of a local backup, what the WAL summaries (wal-summaries.ts) let us skip: the whole
 * file (its previous record is reused without reading it), or the chunks that hold no changed
 * block (only the others are read). Chunks are cut at fixed offsets (0, size, 2*size...), so a
 * chunk without a changed block, at the same offset and of the same size as the previous
 * backup's, has the previous backup's bytes.
 *
 * Only what the summaries can vouch for is skipped; everything else is read as without them:
 * files that are not relation files (pg_control, pg_xact, configuration...), free space map forks
 * (not WAL-logged), files not in the previous backup, database directories created or dropped
 * since then, forks truncated below the segment's start, files whose size is not a whole number
 * of blocks, and chunks past the previous backup's end of the file.
 */
import type { FileRecord } from '../repo/index.js';
import { relationFileOf, type RelationFileName } from './exclusions.js';
import type { WalChanges } from './wal-summaries.js';

/** pg_default and pg_global: the tablespaces of base/ and global/. */
const DEFAULT_TABLESPACE = '1663';
const GLOBAL_TABLESPACE = '1664';
const FORK_NUMBER: Record<RelationFileName['fork'], number> = { main: 0, fsm: 1, vm: 2, init: 3 };

/** Read more than this share of a file's chunks: read it whole (one sequential read, whole-file hash). */
const READ_WHOLE_SHARE = 0.9;

export type FilePlan =
  | { kind: 'read' }
  /** Unchanged: keep the previous record. */
  | { kind: 'reuse'; previous: FileRecord }
  /** Read only these chunk indexes (sorted); the others are the previous record's. */
  | { kind: 'patch'; previous: FileRecord; read: number[] };

export interface FileGeometry {
  chunkSize: number;
  blockSize: number;
  /** Blocks per segment file (RELSEG_SIZE). */
  segmentBlocks: number;
}

/** Tablespace, database and relation fork of a relation file path (relative to the data directory). */
export function relationForkOf(path: string): { spc: string; db: string; rel: RelationFileName } | undefined {
  const rel = relationFileOf(path);
  if (!rel) return undefined;
  const parts = path.split('/');
  if (parts[0] === 'global') return { spc: GLOBAL_TABLESPACE, db: '0', rel };
  if (parts[0] === 'base') return { spc: DEFAULT_TABLESPACE, db: parts[1]!, rel };
  if (parts[0] === 'pg_tblspc') return { spc: parts[1]!, db: parts[3]!, rel };
  return undefined;
}

export function planFile(path: string, size: number, previous: FileRecord | undefined, changes: WalChanges, g: FileGeometry): FilePlan {
  const read: FilePlan = { kind: 'read' };
  const where = relationForkOf(path);
  if (!where || where.rel.fork === 'fsm') return read;
  if (!previous || previous.type !== 'file') return read;
  if (size % g.blockSize !== 0 || size / g.blockSize > g.segmentBlocks) return read;
  if (previous.chunks.some((c, i) => c.offset !== i * g.chunkSize)) return read;
  if (changes.recreatedDatabases.has(`${where.spc}/${where.db}`)) return read;
  const fork = changes.forks.get(`${where.spc}/${where.db}/${where.rel.relfilenode}/${FORK_NUMBER[where.rel.fork]}`);
  const firstBlock = where.rel.segment * g.segmentBlocks;
  if (fork?.limitBlock !== undefined && fork.limitBlock <= firstBlock) return read;

  const blocksPerChunk = g.chunkSize / g.blockSize;
  if (!Number.isInteger(blocksPerChunk) || g.segmentBlocks % blocksPerChunk !== 0) return read;
  // groups are chunk-sized runs of the relation's blocks (sorted); a segment starts at a whole group
  const changed = new Set<number>();
  const groups = fork?.groups ?? [];
  const firstGroup = firstBlock / blocksPerChunk;
  for (let at = lowerBound(groups, firstGroup); at < groups.length && groups[at]! < firstGroup + g.segmentBlocks / blocksPerChunk; at++) {
    changed.add(groups[at]! - firstGroup);
  }
  const limitChunk = fork?.limitBlock !== undefined ? Math.floor((fork.limitBlock - firstBlock) / blocksPerChunk) : Infinity;
  const count = Math.ceil(size / g.chunkSize);
  const toRead: number[] = [];
  for (let i = 0; i < count; i++) {
    const length = Math.min(g.chunkSize, size - i * g.chunkSize);
    const before = previous.chunks[i];
    const same = before !== undefined && before.size === length && !changed.has(i) && i < limitChunk;
    if (!same) toRead.push(i);
  }
  if (toRead.length === 0 && count === previous.chunks.length) return { kind: 'reuse', previous };
  if (toRead.length > count * READ_WHOLE_SHARE) return read;
  return { kind: 'patch', previous, read: toRead };
}

/** The first index of `sorted` whose value is >= `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
