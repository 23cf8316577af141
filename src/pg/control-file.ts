/**
 * Reading global/pg_control ourselves, so that no pg_controldata of the data directory's exact
 * major is needed (the npm server binaries ship none, and a host may lack the client package).
 *
 * The layout is PostgreSQL's ControlFileData (src/include/catalog/pg_control.h), written in the
 * host's byte order (little-endian here). The fields read sit at the same offsets from
 * pg_control version 1300 (PostgreSQL 13 to 16) through 1700 (17: wal_level went into the
 * checkpoint record's padding) and 1800 (18: default_char_signedness after the checksum version,
 * which moves the CRC):
 *
 *     0 system_identifier u64     8 pg_control_version u32   12 catalog_version_no u32
 *    16 state (DBState)          32 checkPoint u64
 *    40 checkPointCopy: redo u64 (40), ThisTimeLineID (48), PrevTimeLineID (52)
 *   136 minRecoveryPoint u64    144 minRecoveryPointTLI
 *   172 wal_level               216 blcksz   228 xlog_seg_size   252 data_checksum_version
 *   CRC-32C of every byte before it: at 288 (1300, 1700), 292 (1800)
 *
 * A version not in this table is not guessed at: the caller falls back to pg_controldata.
 */
import { crc32c } from './crc32c.js';
import { formatLsn } from './lsn.js';
import { walFileNameForLsn } from './wal-name.js';

/** pg_control version -> offset of its CRC. */
const CRC_OFFSET: Record<number, number> = { 1300: 288, 1700: 288, 1800: 292 };

const STATES = [
  'starting up',
  'shut down',
  'shut down in recovery',
  'shutting down',
  'in crash recovery',
  'in archive recovery',
  'in production',
];
const WAL_LEVELS = ['minimal', 'replica', 'logical'];

export type ControlFileRead =
  | { ok: true; fields: Record<string, string> }
  | { ok: false; reason: 'unknown-version' | 'crc' | 'short'; pgControlVersion?: number };

/** Known pg_control versions (for messages and tests). */
export const KNOWN_CONTROL_VERSIONS = Object.keys(CRC_OFFSET).map(Number);

/**
 * Parse a pg_control file into the "key: value" fields pg_controldata prints (same keys, same
 * value forms, for the fields read). Pure.
 */
export function parseControlFile(buf: Buffer): ControlFileRead {
  if (buf.length < 16) return { ok: false, reason: 'short' };
  const version = buf.readUInt32LE(8);
  const crcAt = CRC_OFFSET[version];
  if (crcAt === undefined) return { ok: false, reason: 'unknown-version', pgControlVersion: version };
  if (buf.length < crcAt + 4) return { ok: false, reason: 'short', pgControlVersion: version };
  if (crc32c(buf.subarray(0, crcAt)) !== buf.readUInt32LE(crcAt)) return { ok: false, reason: 'crc', pgControlVersion: version };

  const u32 = (o: number) => buf.readUInt32LE(o);
  const lsn = (o: number) => buf.readBigUInt64LE(o);
  const segSize = u32(228);
  const redo = lsn(40);
  const tli = u32(48);
  const state = u32(16);
  const walLevel = u32(172);
  return {
    ok: true,
    fields: {
      'pg_control version number': String(version),
      'Catalog version number': String(u32(12)),
      'Database system identifier': buf.readBigUInt64LE(0).toString(),
      'Database cluster state': STATES[state] ?? `unrecognized status code ${state}`,
      'Latest checkpoint location': formatLsn(lsn(32)),
      "Latest checkpoint's REDO location": formatLsn(redo),
      "Latest checkpoint's REDO WAL file": walFileNameForLsn(tli, redo, segSize),
      "Latest checkpoint's TimeLineID": String(tli),
      "Latest checkpoint's PrevTimeLineID": String(u32(52)),
      'Minimum recovery ending location': formatLsn(lsn(136)),
      "Min recovery ending loc's timeline": String(u32(144)),
      'wal_level setting': WAL_LEVELS[walLevel] ?? `unrecognized wal_level ${walLevel}`,
      'Database block size': String(u32(216)),
      'Bytes per WAL segment': String(segSize),
      'Data page checksum version': String(u32(252)),
    },
  };
}
