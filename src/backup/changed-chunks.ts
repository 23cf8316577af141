/**
 * Store a relation file of which the WAL summaries say only some chunks changed
 * (unchanged-files.ts): the changed chunks are read in runs of consecutive chunks, each verified
 * like a full read (page checksums), and the other chunks are the previous backup's.
 */
import type { FileHandle } from 'node:fs/promises';
import type { FileEntry, FileRecord, SnapshotWriter } from '../repo/index.js';
import { dataFileReader, type ReadFileOptions, type ReadFileStats } from './read-file.js';

/** Runs of consecutive chunk indexes, as byte ranges of a file of `size` bytes. */
export function chunkRuns(indexes: readonly number[], chunkSize: number, size: number): { offset: number; length: number }[] {
  const runs: { offset: number; length: number }[] = [];
  for (let i = 0; i < indexes.length; ) {
    let j = i;
    while (j + 1 < indexes.length && indexes[j + 1] === indexes[j]! + 1) j++;
    const offset = indexes[i]! * chunkSize;
    runs.push({ offset, length: Math.min(size, (indexes[j]! + 1) * chunkSize) - offset });
    i = j + 1;
  }
  return runs;
}

export async function storeChangedChunks(
  writer: SnapshotWriter,
  fh: FileHandle,
  entry: FileEntry & { size: number },
  previous: FileRecord,
  read: readonly number[],
  chunkSize: number,
  reading: Omit<ReadFileOptions, 'size' | 'start'>,
  stats: ReadFileStats,
): Promise<FileRecord> {
  const runs = chunkRuns(read, chunkSize, entry.size).map((r) => ({
    ...r,
    content: dataFileReader(fh, { ...reading, start: r.offset, size: r.offset + r.length }, stats),
  }));
  return writer.addPatchedFile(entry, previous, runs);
}
