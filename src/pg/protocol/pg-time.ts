/**
 * PostgreSQL timestamps on the replication protocol: signed microseconds since
 * 2000-01-01 00:00:00 UTC, as Int64.
 */

/** Milliseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01 UTC). */
export const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

/** Microseconds since 2000-01-01 UTC for a Date or a Unix time in milliseconds (default: now). */
export function toPgTimestamp(at: Date | number = Date.now()): bigint {
  const ms = typeof at === 'number' ? at : at.getTime();
  return BigInt(Math.round((ms - PG_EPOCH_MS) * 1000));
}

/** The Date for a PostgreSQL protocol timestamp (sub-millisecond precision is dropped). */
export function fromPgTimestamp(us: bigint): Date {
  return new Date(PG_EPOCH_MS + Number(us / 1000n));
}
