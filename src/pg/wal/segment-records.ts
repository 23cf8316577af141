/**
 * Record check of a complete WAL segment: every record that starts and ends inside it is
 * reassembled across pages (the PITR scanner, records.ts) and its CRC-32C
 * compared with xl_crc — PostgreSQL computes it over the record's data and then the first 20
 * bytes of its header. This finds a byte changed inside record data, which the page headers
 * cannot. Records cut by the segment's ends are not checked (their other part is in the
 * neighbouring segment); the scan stops where the valid WAL stops (a zero length, an
 * XLOG_SWITCH, a page that does not follow), so a crash-recovery overwrite is not a problem.
 * A damaged length field also ends the scan there, unreported: the object envelope's SHA-256
 * (or GCM tag) is what guarantees storage integrity; this check is a second line for WAL that
 * was damaged before it was archived.
 */
import { formatLsn, type Lsn } from '../lsn.js';
import { CRC32C_INIT, crc32cFinish, crc32cUpdate } from '../crc32c.js';
import { WalRecordScanner } from './records.js';

const RECORD_HEADER = 24;
const CRC_OFFSET = 20;

/** The first record of the segment whose CRC-32C does not match, described; undefined when all do. */
export function segmentRecordProblem(data: Buffer, start: Lsn): string | undefined {
  let problem: string | undefined;
  let records = 0;
  const scanner = new WalRecordScanner(
    () => undefined,
    (rec, lsn) => {
      records++;
      if (problem !== undefined || rec.length < RECORD_HEADER) return;
      const crc = crc32cFinish(crc32cUpdate(crc32cUpdate(CRC32C_INIT, rec.subarray(RECORD_HEADER)), rec.subarray(0, CRC_OFFSET)));
      const stored = rec.readUInt32LE(CRC_OFFSET);
      if (crc !== stored) {
        problem =
          `record ${records} at ${formatLsn(lsn)} (${rec.length} bytes) fails its CRC-32C ` +
          `(stored ${stored.toString(16).padStart(8, '0')}, computed ${crc.toString(16).padStart(8, '0')})`;
      }
    },
  );
  scanner.segment(data, start);
  return problem;
}
