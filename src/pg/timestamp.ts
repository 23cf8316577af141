/** PostgreSQL's TimestampTz: microseconds since 2000-01-01 00:00 UTC (as in WAL commit records). Pure. */

/** PostgreSQL's timestamp epoch (2000-01-01 UTC) in Unix microseconds. */
export const PG_EPOCH_MICROS = 946_684_800_000_000n;

/** Unix microseconds of a PostgreSQL TimestampTz (microseconds since 2000-01-01 UTC). */
export function pgTimestampToMicros(ts: bigint): bigint {
  return ts + PG_EPOCH_MICROS;
}
