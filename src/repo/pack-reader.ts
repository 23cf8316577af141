/** Reading a pack's footer and index (two range reads), for check and gc. */
import type { StorageDriver } from './storage/driver.js';
import { decodeObject } from './blob.js';
import {
  decodeFooter,
  decodePackIndex,
  PACK_FOOTER_BYTES,
  PACK_HEADER_BYTES,
  PACK_MAGIC,
  packKey,
  type PackIndexEntry,
} from './pack-format.js';

export interface PackIndex {
  indexOffset: number;
  entries: PackIndexEntry[];
}

/** Read and verify a pack's index; throws a plain Error describing what is wrong. */
export async function readPackIndex(driver: StorageDriver, key: Buffer | undefined, packId: string, size: number): Promise<PackIndex> {
  if (size < PACK_HEADER_BYTES + PACK_FOOTER_BYTES) throw new Error(`pack is truncated (${size} bytes)`);
  const k = packKey(packId);
  const head = await driver.get(k, { offset: 0, length: PACK_HEADER_BYTES });
  if (!PACK_MAGIC.equals(head)) throw new Error('pack header is not "PGKPACK1"');
  const footer = await driver.get(k, { offset: size - PACK_FOOTER_BYTES, length: PACK_FOOTER_BYTES });
  const { indexOffset, indexLength } = decodeFooter(footer, size);
  const raw = await driver.get(k, { offset: indexOffset, length: indexLength });
  if (raw.length !== indexLength) throw new Error('pack index is truncated');
  let entries: PackIndexEntry[];
  try {
    entries = decodePackIndex(decodeObject(key, k, raw));
  } catch (e) {
    throw new Error(`pack index is damaged: ${(e as Error).message}`);
  }
  let end = PACK_HEADER_BYTES;
  for (const e of entries) {
    if (e.offset < end || e.offset + e.length > indexOffset)
      throw new Error(`pack index entry at offset ${e.offset} overlaps or lies outside the blob area`);
    end = e.offset + e.length;
  }
  return { indexOffset, entries };
}
