/**
 * Log sequence numbers (LSNs): 64-bit byte positions in the WAL, written by PostgreSQL as two
 * hexadecimal halves `HI/LO` (e.g. `16/B374D848`). Always bigint here: a number loses precision
 * past 2^53. Also the segment arithmetic that depends on the cluster's wal_segment_size.
 */
import { PgkeepError } from '../errors.js';

export type Lsn = bigint;

/** `0/0`: PostgreSQL's InvalidXLogRecPtr. */
export const INVALID_LSN: Lsn = 0n;
/** The largest LSN (`FFFFFFFF/FFFFFFFF`). */
export const MAX_LSN: Lsn = 0xffff_ffff_ffff_ffffn;
/** PostgreSQL's default wal_segment_size: 16 MiB. */
export const DEFAULT_WAL_SEGMENT_SIZE = 16 * 1024 * 1024;
/** Smallest and largest wal_segment_size initdb accepts (1 MiB .. 1 GiB, powers of two). */
export const MIN_WAL_SEGMENT_SIZE = 1024 * 1024;
export const MAX_WAL_SEGMENT_SIZE = 1024 * 1024 * 1024;

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** True when `text` is an LSN in PostgreSQL's `X/X` form. */
export function isLsnText(text: string): boolean {
  return LSN_TEXT.test(text.trim());
}

/** Parse `16/B374D848` into a bigint. Throws USAGE (with the expected form) on anything else. */
export function parseLsn(text: string): Lsn {
  const m = LSN_TEXT.exec(String(text).trim());
  if (!m) {
    throw new PgkeepError('USAGE', `invalid LSN "${text}": expected two hexadecimal numbers separated by a slash`, {
      hint: 'write an LSN the way PostgreSQL prints it, for example 16/B374D848 (see pg_current_wal_lsn())',
    });
  }
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** Format an LSN the way PostgreSQL does (`%X/%X`, upper case, no padding). */
export function formatLsn(lsn: Lsn): string {
  checkRange(lsn);
  const hi = lsn >> 32n;
  const lo = lsn & 0xffff_ffffn;
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
}

/** LSN from its two 32-bit halves (as in pg_control or the replication protocol's Int64). */
export function lsnFromParts(hi: number, lo: number): Lsn {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** `lsn + bytes`; throws INTERNAL on overflow past FFFFFFFF/FFFFFFFF or below 0/0. */
export function lsnAdd(lsn: Lsn, bytes: bigint | number): Lsn {
  const r = lsn + BigInt(bytes);
  checkRange(r);
  return r;
}

/** `a - b` in bytes (negative when a is before b), like pg_wal_lsn_diff(). */
export function lsnDiff(a: Lsn, b: Lsn): bigint {
  return a - b;
}

/** -1, 0 or 1; usable as an Array.sort comparator. */
export function compareLsn(a: Lsn, b: Lsn): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function maxLsn(...lsns: Lsn[]): Lsn {
  return lsns.reduce((m, x) => (x > m ? x : m));
}

export function minLsn(...lsns: Lsn[]): Lsn {
  return lsns.reduce((m, x) => (x < m ? x : m));
}

/** Throws USAGE unless `size` is a power of two between 1 MiB and 1 GiB. */
export function checkWalSegmentSize(size: number): void {
  if (!Number.isInteger(size) || size < MIN_WAL_SEGMENT_SIZE || size > MAX_WAL_SEGMENT_SIZE || (size & (size - 1)) !== 0) {
    throw new PgkeepError('USAGE', `invalid WAL segment size ${size}: expected a power of two between 1 MiB and 1 GiB`, {
      hint: "use the server's wal_segment_size (SHOW wal_segment_size), 16 MiB by default",
    });
  }
}

/**
 * Parse the text of `SHOW wal_segment_size` ("16MB", "1GB", "64MB") or a plain byte count into
 * bytes. Throws USAGE for anything else.
 */
export function parseWalSegmentSizeSetting(text: string): number {
  const m = /^\s*(\d+)\s*(B|kB|MB|GB)?\s*$/.exec(text);
  if (!m) {
    throw new PgkeepError('USAGE', `cannot read wal_segment_size "${text}": expected a size such as 16MB`);
  }
  const unit = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[(m[2] ?? 'B') as 'B' | 'kB' | 'MB' | 'GB'];
  const size = Number(m[1]) * unit;
  checkWalSegmentSize(size);
  return size;
}

/** Number of segments per "xlogid" (the middle 8 hex digits of a segment name): 2^32 / segSize. */
export function segmentsPerXLogId(segSize: number = DEFAULT_WAL_SEGMENT_SIZE): bigint {
  checkWalSegmentSize(segSize);
  return 0x1_0000_0000n / BigInt(segSize);
}

/** Segment number holding the byte at `lsn` (PostgreSQL's XLByteToSeg). */
export function segmentOfLsn(lsn: Lsn, segSize: number = DEFAULT_WAL_SEGMENT_SIZE): bigint {
  checkWalSegmentSize(segSize);
  checkRange(lsn);
  return lsn / BigInt(segSize);
}

/**
 * Segment number holding the byte just before `lsn` (PostgreSQL's XLByteToPrevSeg): the last
 * segment needed to reach an end position that sits exactly on a segment boundary.
 */
export function segmentBeforeLsn(lsn: Lsn, segSize: number = DEFAULT_WAL_SEGMENT_SIZE): bigint {
  checkWalSegmentSize(segSize);
  if (lsn <= 0n) throw new PgkeepError('INTERNAL', 'there is no segment before LSN 0/0');
  checkRange(lsn);
  return (lsn - 1n) / BigInt(segSize);
}

/** First LSN of segment number `segNo`. */
export function segmentStartLsn(segNo: bigint, segSize: number = DEFAULT_WAL_SEGMENT_SIZE): Lsn {
  checkWalSegmentSize(segSize);
  const r = segNo * BigInt(segSize);
  checkRange(r);
  return r;
}

/** Byte offset of `lsn` inside its segment. */
export function segmentOffset(lsn: Lsn, segSize: number = DEFAULT_WAL_SEGMENT_SIZE): number {
  checkWalSegmentSize(segSize);
  return Number(lsn % BigInt(segSize));
}

/** True when `lsn` is the first byte of a segment. */
export function isSegmentStart(lsn: Lsn, segSize: number = DEFAULT_WAL_SEGMENT_SIZE): boolean {
  return segmentOffset(lsn, segSize) === 0;
}

/** `lsn` rounded down to the start of its segment. */
export function segmentFloor(lsn: Lsn, segSize: number = DEFAULT_WAL_SEGMENT_SIZE): Lsn {
  return lsn - BigInt(segmentOffset(lsn, segSize));
}

function checkRange(lsn: Lsn): void {
  if (typeof lsn !== 'bigint' || lsn < 0n || lsn > MAX_LSN) {
    throw new PgkeepError('INTERNAL', `LSN out of range: ${String(lsn)}`);
  }
}
