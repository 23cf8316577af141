/**
 * Pack objects (packs/<2 hex>/<pack id>), format version 1, no I/O here:
 *
 *   "PGKPACK1" (8 bytes)
 *   blob, blob, ...                     each a blob (see blob.ts), referenced by offset+length
 *   index object                        an object envelope (blob.ts) named "packs/<id>"
 *   footer (24 bytes): index offset u64 BE | index length u64 BE | "PGKPEND1"
 *
 * Index plaintext: count u32 BE, then per blob (49 bytes): offset u64 BE | length u32 BE |
 * plaintext length u32 BE | kind u8 (0 file chunk, 1 file list, 2 delta chunk) | SHA-256 of the plaintext (32).
 */
export const PACK_MAGIC = Buffer.from('PGKPACK1', 'latin1');
export const PACK_END_MAGIC = Buffer.from('PGKPEND1', 'latin1');
export const PACK_HEADER_BYTES = 8;
export const PACK_FOOTER_BYTES = 24;
export const PACK_INDEX_ENTRY_BYTES = 49;

export const BLOB_KIND_CHUNK = 0;
export const BLOB_KIND_FILE_LIST = 1;
/** A delta chunk (format 2, delta-codec.ts): its plaintext is a delta on a base chunk. */
export const BLOB_KIND_DELTA = 2;

export interface PackIndexEntry {
  offset: number;
  length: number;
  rawLength: number;
  kind: number;
  /** hex */
  sha256: string;
}

export function packKey(packId: string): string {
  return `packs/${packId.slice(0, 2)}/${packId}`;
}

/** The pack id from a key "packs/ab/abcdef...", or undefined for anything else. */
export function packIdFromKey(key: string): string | undefined {
  const m = /^packs\/([0-9a-f]{2})\/([0-9a-f]{32})$/.exec(key);
  return m && m[2]!.startsWith(m[1]!) ? m[2] : undefined;
}

export function encodePackIndex(entries: PackIndexEntry[]): Buffer {
  const out = Buffer.alloc(4 + entries.length * PACK_INDEX_ENTRY_BYTES);
  out.writeUInt32BE(entries.length, 0);
  let p = 4;
  for (const e of entries) {
    writePackIndexEntry(out, p, e);
    p += PACK_INDEX_ENTRY_BYTES;
  }
  return out;
}

/** One entry of a pack index, in its binary form, at `p` of `out`. */
export function writePackIndexEntry(out: Buffer, p: number, e: PackIndexEntry): void {
  out.writeBigUInt64BE(BigInt(e.offset), p);
  out.writeUInt32BE(e.length, p + 8);
  out.writeUInt32BE(e.rawLength, p + 12);
  out.writeUInt8(e.kind, p + 16);
  out.write(e.sha256, p + 17, 32, 'hex');
}

export function decodePackIndex(data: Buffer): PackIndexEntry[] {
  if (data.length < 4) throw new Error('pack index is truncated');
  const count = data.readUInt32BE(0);
  if (data.length !== 4 + count * PACK_INDEX_ENTRY_BYTES) throw new Error('pack index length does not match its entry count');
  const out: PackIndexEntry[] = [];
  for (let i = 0, p = 4; i < count; i++, p += PACK_INDEX_ENTRY_BYTES) {
    out.push({
      offset: Number(data.readBigUInt64BE(p)),
      length: data.readUInt32BE(p + 8),
      rawLength: data.readUInt32BE(p + 12),
      kind: data.readUInt8(p + 16),
      sha256: data.toString('hex', p + 17, p + 49),
    });
  }
  return out;
}

export function encodeFooter(indexOffset: number, indexLength: number): Buffer {
  const f = Buffer.alloc(PACK_FOOTER_BYTES);
  f.writeBigUInt64BE(BigInt(indexOffset), 0);
  f.writeBigUInt64BE(BigInt(indexLength), 8);
  PACK_END_MAGIC.copy(f, 16);
  return f;
}

/** Parse the footer of a pack of `packSize` bytes; throws a plain Error when it is not valid. */
export function decodeFooter(footer: Buffer, packSize: number): { indexOffset: number; indexLength: number } {
  if (footer.length !== PACK_FOOTER_BYTES || !PACK_END_MAGIC.equals(footer.subarray(16))) {
    throw new Error('pack footer is missing (truncated or not a pack)');
  }
  const indexOffset = Number(footer.readBigUInt64BE(0));
  const indexLength = Number(footer.readBigUInt64BE(8));
  if (indexOffset < PACK_HEADER_BYTES || indexOffset + indexLength !== packSize - PACK_FOOTER_BYTES) {
    throw new Error('pack footer points outside the pack');
  }
  return { indexOffset, indexLength };
}
