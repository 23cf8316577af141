/**
 * A restore (or verify) holds every file's facts (path, size, mode, owner...) but not its chunk list: that
 * costs ~150 bytes per 128 KiB chunk (about 1 GB per TiB). Records are kept without their chunks
 * (`withoutChunks`); the chunks of one file are read back from the snapshot's file list when the
 * file is written or compared (`withChunks`), part by part (FileLookup keeps a few parts).
 */
import { PgkeepError } from '../errors.js';
import { FileLookup } from './file-lookup.js';
import type { FileRecord } from './manifest.js';
import type { Snapshot } from './snapshot.js';

/** The path the snapshot stores the record under (the plan may rewrite "./x" to "x"); copied by object spread. */
const STORED_PATH = Symbol('stored path');

const lookups = new WeakMap<Snapshot, FileLookup>();

/** A regular file's record without its chunk list, to be read back by `withChunks`. */
export function withoutChunks(r: FileRecord): FileRecord {
  if (r.type !== 'file' || r.chunks.length === 0) return r;
  const kept: FileRecord & { [STORED_PATH]?: string } = { ...r, chunks: [] };
  kept[STORED_PATH] = r.path;
  return kept;
}

/** The record with its chunk list (read from the snapshot when `withoutChunks` dropped it). */
export async function withChunks(snapshot: Snapshot, r: FileRecord): Promise<FileRecord> {
  if (!(STORED_PATH in r)) return r;
  const path = r[STORED_PATH];
  if (typeof path !== 'string') return r;
  let lookup = lookups.get(snapshot);
  if (!lookup) lookups.set(snapshot, (lookup = new FileLookup(snapshot)));
  const stored = await lookup.get(path);
  if (!stored || stored.type !== 'file' || stored.size !== r.size) {
    throw new PgkeepError(
      'DATA_INTEGRITY',
      `the file list of snapshot ${snapshot.cluster}/${snapshot.id} no longer lists "${path}" as it did`,
      {
        hint: 'check the repository with "pgkeep repo check"',
      },
    );
  }
  return { ...r, chunks: stored.chunks };
}
