/**
 * A WAL record scanner that reads just enough to answer point-in-time questions: where records
 * start, and the commit/abort records (transaction id, commit time) and restore points
 * (pg_create_restore_point) among them. Pure: it is fed segment contents and reports events.
 *
 * Format facts (PostgreSQL 10-18, unchanged; checked on segments written by 13 to 18): pages of XLOG_BLCKSZ bytes, each with a short
 * header (24 bytes; 40 bytes, "long", on a segment's first page, which also carries the page
 * size). xlp_info bit 0x0001 says the page starts with the rest of a record from the previous
 * page and xlp_rem_len how much of it. Records are 8-byte aligned and start with a 24-byte
 * header: xl_tot_len u32, xl_xid u32, xl_prev u64, xl_info u8, xl_rmid u8, 2 bytes padding,
 * xl_crc u32. Then block reference headers, and the "main data" announced by the block id
 * 255 (1-byte length) or 254 (4-byte length); 253 (origin, 2 bytes) and 252 (top-level xid,
 * 4 bytes) may precede it. Commit and abort records (rmgr 1) have no block references and their
 * main data starts with the commit time (TimestampTz: microseconds since 2000-01-01 UTC); a
 * restore point (rmgr 0, info 0x70) is the time followed by a 64-byte NUL-padded name. A zero
 * xl_tot_len, or a page whose address is not where it should be, ends the valid WAL; an
 * XLOG_SWITCH record (rmgr 0, info 0x40) ends its segment.
 */
import { formatLsn, type Lsn } from '../lsn.js';
import { pgTimestampToMicros } from '../timestamp.js';

export type WalEvent =
  | { kind: 'commit' | 'abort'; lsn: Lsn; end: Lsn; xid: number; prepared: boolean; time: bigint }
  | { kind: 'restore-point'; lsn: Lsn; end: Lsn; name: string; time: bigint };

const XLP_FIRST_IS_CONTRECORD = 0x0001;
const XLP_LONG_HEADER = 0x0002;
const SHORT_PHD = 24;
const LONG_PHD = 40;
const RECORD_HEADER = 24;
const RM_XLOG_ID = 0;
const RM_XACT_ID = 1;
const XLOG_SWITCH = 0x40;
const XLOG_RESTORE_POINT = 0x70;
const XLOG_XACT_OPMASK = 0x70;
const XACT_OPS: Record<number, { kind: 'commit' | 'abort'; prepared: boolean }> = {
  0x00: { kind: 'commit', prepared: false },
  0x20: { kind: 'abort', prepared: false },
  0x30: { kind: 'commit', prepared: true },
  0x40: { kind: 'abort', prepared: true },
};

const align8 = (n: number) => (n + 7) & ~7;

interface Pending {
  lsn: Lsn;
  total: number;
  chunks: Buffer[];
  have: number;
}

export class WalRecordScanner {
  /** Start LSN of the last complete record seen, and the LSN just after it. */
  lastRecord?: Lsn;
  lastRecordEnd?: Lsn;
  records = 0;
  private pending?: Pending;
  private next?: Lsn;

  /** onRecord sees every complete record (its bytes and start LSN), e.g. to check its CRC. */
  constructor(
    private readonly onEvent: (e: WalEvent) => void,
    private readonly onRecord?: (rec: Buffer, lsn: Lsn) => void,
  ) {}

  /** Feed one whole segment that starts at `start`. Segments not following the previous one start afresh. */
  segment(data: Buffer, start: Lsn): void {
    if (this.next !== start) this.pending = undefined;
    this.next = start + BigInt(data.length);
    if (data.length < LONG_PHD) return;
    const pageSize = data.readUInt32LE(36);
    if (pageSize < 1024 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return;
    const magic = data.readUInt16LE(0);
    for (let pageOff = 0; pageOff + pageSize <= data.length; pageOff += pageSize) {
      if (data.readUInt16LE(pageOff) !== magic || data.readBigUInt64LE(pageOff + 8) !== start + BigInt(pageOff)) {
        this.pending = undefined;
        return;
      }
      const info = data.readUInt16LE(pageOff + 2);
      const remLen = data.readUInt32LE(pageOff + 16);
      const pageEnd = pageOff + pageSize;
      let p = pageOff + (info & XLP_LONG_HEADER ? LONG_PHD : SHORT_PHD);
      if (info & XLP_FIRST_IS_CONTRECORD) {
        const n = Math.min(remLen, pageEnd - p);
        if (this.pending) {
          this.pending.chunks.push(Buffer.from(data.subarray(p, p + n)));
          this.pending.have += n;
          if (this.pending.have >= this.pending.total) {
            const done = this.pending;
            this.pending = undefined;
            if (this.record(Buffer.concat(done.chunks).subarray(0, done.total), done.lsn, start + BigInt(p + n))) return;
          }
        }
        if (remLen >= pageEnd - p) continue;
        p = align8(p + n);
      } else if (this.pending) {
        this.pending = undefined;
      }
      while (p + 4 <= pageEnd) {
        const total = data.readUInt32LE(p);
        if (total === 0 || total < RECORD_HEADER) {
          this.pending = undefined;
          return;
        }
        const lsn = start + BigInt(p);
        if (total <= pageEnd - p) {
          if (this.record(data.subarray(p, p + total), lsn, lsn + BigInt(total))) return;
          p = align8(p + total);
        } else {
          this.pending = { lsn, total, chunks: [Buffer.from(data.subarray(p, pageEnd))], have: pageEnd - p };
          p = pageEnd;
        }
      }
    }
  }

  /** One complete record; true when it ends the segment (XLOG_SWITCH). */
  private record(rec: Buffer, lsn: Lsn, end: Lsn): boolean {
    this.onRecord?.(rec, lsn);
    this.records++;
    this.lastRecord = lsn;
    this.lastRecordEnd = end;
    const info = rec[16]!;
    const rmid = rec[17]!;
    if (rmid === RM_XLOG_ID) {
      const op = info & 0xf0;
      if (op === XLOG_SWITCH) {
        this.pending = undefined;
        return true;
      }
      if (op === XLOG_RESTORE_POINT) {
        const main = mainData(rec);
        if (main && main.length >= 8) {
          const raw = main.subarray(8, 8 + 64);
          const nul = raw.indexOf(0);
          this.onEvent({
            kind: 'restore-point',
            lsn,
            end,
            name: raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8'),
            time: pgTimestampToMicros(main.readBigInt64LE(0)),
          });
        }
      }
    } else if (rmid === RM_XACT_ID) {
      const op = XACT_OPS[info & XLOG_XACT_OPMASK];
      const main = op ? mainData(rec) : undefined;
      if (op && main && main.length >= 8) {
        this.onEvent({ ...op, lsn, end, xid: rec.readUInt32LE(4), time: pgTimestampToMicros(main.readBigInt64LE(0)) });
      }
    }
    return false;
  }
}

/** The main data of a record without block references (undefined when it has any). */
function mainData(rec: Buffer): Buffer | undefined {
  let o = RECORD_HEADER;
  while (o < rec.length) {
    const id = rec[o]!;
    if (id === 255) {
      const len = rec[o + 1]!;
      return rec.subarray(o + 2, o + 2 + len);
    }
    if (id === 254) {
      const len = rec.readUInt32LE(o + 1);
      return rec.subarray(o + 5, o + 5 + len);
    }
    if (id === 253) o += 3;
    else if (id === 252) o += 5;
    else return undefined;
  }
  return undefined;
}

/** "commit of transaction 123 at 2026-... (LSN 0/3000148)": for messages. */
export function describeEvent(e: WalEvent, formatTime: (micros: bigint) => string): string {
  if (e.kind === 'restore-point') return `restore point "${e.name}" created at ${formatTime(e.time)} (LSN ${formatLsn(e.lsn)})`;
  return `${e.kind}${e.prepared ? ' prepared' : ''} of transaction ${e.xid} at ${formatTime(e.time)} (LSN ${formatLsn(e.lsn)})`;
}
