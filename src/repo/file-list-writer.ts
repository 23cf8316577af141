/**
 * A snapshot's file list, written as parts as they fill (one part in memory): records arrive
 * sorted by path and are grouped into parts of at most
 * PART_MAX_FILES files and PART_MAX_CHUNKS chunks (a single larger file gets a part of its own),
 * each part stored as one blob through `append`.
 */
import { PgkeepError } from '../errors.js';
import { sha256 } from './blob.js';
import { encodePart, type FileListPart, type FileRecord } from './manifest.js';
import type { Locator } from './pack-writer.js';

const PART_MAX_FILES = 2000;
const PART_MAX_CHUNKS = 20000;

export async function writeFileListParts(
  records: AsyncIterable<FileRecord>,
  append: (json: Buffer, sha256Hex: string) => Promise<Locator>,
): Promise<FileListPart[]> {
  const parts: FileListPart[] = [];
  let group: FileRecord[] = [];
  let chunks = 0;
  let last: string | undefined;
  const flush = async () => {
    const json = encodePart(group);
    const hash = sha256(json).toString('hex');
    const locator = await append(json, hash);
    parts.push({ locator, sha256: hash, files: group.length, first: group[0]!.path, last: group[group.length - 1]!.path });
    group = [];
    chunks = 0;
  };
  for await (const r of records) {
    if (last !== undefined && !(last < r.path)) {
      throw new PgkeepError('INTERNAL', `file list out of order: "${r.path}" comes after "${last}"`);
    }
    last = r.path;
    if (group.length > 0 && (group.length >= PART_MAX_FILES || chunks + r.chunks.length > PART_MAX_CHUNKS)) await flush();
    group.push(r);
    chunks += r.chunks.length;
  }
  if (group.length > 0) await flush();
  return parts;
}
