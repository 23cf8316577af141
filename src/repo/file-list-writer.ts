/**
 * A snapshot's file list, written as parts: records sorted by path, grouped into parts of at most
 * PART_MAX_FILES files and PART_MAX_CHUNKS chunks (a single larger file gets a part of its own),
 * each part stored as one blob through `append`.
 */
import { sha256 } from './blob.js';
import { encodePart, type FileListPart, type FileRecord } from './manifest.js';
import type { Locator } from './pack-writer.js';

const PART_MAX_FILES = 2000;
const PART_MAX_CHUNKS = 20000;

export async function writeFileListParts(
  records: Iterable<FileRecord>,
  append: (json: Buffer, sha256Hex: string) => Promise<Locator>,
): Promise<FileListPart[]> {
  const sorted = [...records].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: FileListPart[] = [];
  let i = 0;
  while (i < sorted.length) {
    const group: FileRecord[] = [];
    let chunks = 0;
    while (
      i < sorted.length &&
      group.length < PART_MAX_FILES &&
      (group.length === 0 || chunks + sorted[i]!.chunks.length <= PART_MAX_CHUNKS)
    ) {
      chunks += sorted[i]!.chunks.length;
      group.push(sorted[i++]!);
    }
    const json = encodePart(group);
    const hash = sha256(json).toString('hex');
    const locator = await append(json, hash);
    parts.push({ locator, sha256: hash, files: group.length, first: group[0]!.path, last: group[group.length - 1]!.path });
  }
  return parts;
}
