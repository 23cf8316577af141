/**
 * What a WAL segment says about itself: the first page of every segment carries PostgreSQL's
 * XLogLongPageHeaderData, so the system identifier, segment size and page address can be read
 * without pg_waldump. Pure parsing, no I/O.
 *
 *   offset  0  uint16 xlp_magic      (changes with the WAL format; read from real segments: 13 0xD106,
 *                                    14 0xD10D, 15 0xD110, 16 0xD113, 17 0xD116, 18 0xD118)
 *   offset  2  uint16 xlp_info       (XLP_LONG_HEADER = 0x0002 on the first page)
 *   offset  4  uint32 xlp_tli        (timeline of the first record on the page)
 *   offset  8  uint64 xlp_pageaddr   (LSN of the page: the segment's start LSN)
 *   offset 16  uint32 xlp_rem_len
 *   offset 24  uint64 xlp_sysid      (system identifier, as in pg_control)
 *   offset 32  uint32 xlp_seg_size
 *   offset 36  uint32 xlp_xlog_blcksz
 * Little-endian on every platform PostgreSQL runs on here (x86-64, arm64).
 */
import { PgkeepError } from '../../errors.js';

export const XLP_LONG_HEADER = 0x0002;
export const LONG_PAGE_HEADER_BYTES = 40;

export interface WalSegmentHeader {
  magic: number;
  info: number;
  timeline: number;
  pageAddress: bigint;
  /** Decimal string. */
  systemIdentifier: string;
  segmentSize: number;
  blockSize: number;
}

/** Parse the long page header at the start of a segment; DATA_INTEGRITY when it is not one. */
export function readSegmentHeader(data: Uint8Array, what = 'WAL segment'): WalSegmentHeader {
  const bad = (why: string) =>
    new PgkeepError('DATA_INTEGRITY', `${what} is not a valid WAL segment: ${why}`, {
      hint: 'archive_command must be given files from pg_wal; check that the file was not truncated or overwritten',
    });
  if (data.length < LONG_PAGE_HEADER_BYTES) throw bad(`it has only ${data.length} bytes`);
  const b = Buffer.from(data.buffer, data.byteOffset, LONG_PAGE_HEADER_BYTES);
  const magic = b.readUInt16LE(0);
  const info = b.readUInt16LE(2);
  if ((magic & 0xff00) !== 0xd000 && (magic & 0xff00) !== 0xd100) throw bad(`unknown page magic 0x${magic.toString(16)}`);
  if (!(info & XLP_LONG_HEADER)) throw bad('its first page has no long header');
  const segmentSize = b.readUInt32LE(32);
  const blockSize = b.readUInt32LE(36);
  if (segmentSize < 1 << 20 || segmentSize > 1 << 30 || (segmentSize & (segmentSize - 1)) !== 0) {
    throw bad(`implausible segment size ${segmentSize}`);
  }
  if (blockSize < 1024 || blockSize > 65536 || (blockSize & (blockSize - 1)) !== 0) throw bad(`implausible block size ${blockSize}`);
  return {
    magic,
    info,
    timeline: b.readUInt32LE(4),
    pageAddress: b.readBigUInt64LE(8),
    systemIdentifier: b.readBigUInt64LE(24).toString(),
    segmentSize,
    blockSize,
  };
}

/** System identifier stored in the first 8 bytes of global/pg_control (ControlFileData.system_identifier). */
export function systemIdFromPgControl(data: Uint8Array): string {
  if (data.length < 8) throw new PgkeepError('DATA_INTEGRITY', 'global/pg_control is too short');
  return Buffer.from(data.buffer, data.byteOffset, 8).readBigUInt64LE(0).toString();
}
