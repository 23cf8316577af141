/**
 * Recovery target times: parsing what a user types, and PostgreSQL's microsecond timestamps.
 * Pure.
 *
 * Accepted: ISO 8601 (`2026-01-02T03:04:05Z`, `...05.123456+02:00`) and PostgreSQL's own form
 * (`2026-01-02 03:04:05[.ffffff][+TZ]`, `+02`, `+0200`, `+02:00`, `Z`, `UTC`, `GMT`); a date
 * alone means its midnight.
 *
 * A time without a zone is taken in the local time zone of the machine running pgkeep (TZ):
 * that is what a person at the keyboard means (local-time.ts: an unreadable TZ, or a time the
 * clocks skipped or repeated, is refused). PostgreSQL would read such a value in the
 * restored server's `timezone` setting (the source's), which may differ, so pgkeep never writes
 * a zone-less value: recovery_target_time is always written in UTC with an explicit "+00".
 */
import { PgkeepError } from '../../errors.js';
import { formatOffset, readLocalWallTime } from './local-time.js';

/** A point in time with PostgreSQL's precision (microseconds since 1970-01-01 UTC). */
export interface TargetTime {
  /** Microseconds since the Unix epoch, UTC. */
  micros: bigint;
  /** How PostgreSQL gets it: `YYYY-MM-DD HH:MM:SS[.ffffff]+00`. */
  text: string;
  /** ISO 8601 UTC with microseconds when any (`2026-01-02T03:04:05.123456Z`). */
  iso: string;
  /** The zone the input was read in: its own offset, or "local (UTC+01:00)" when it had none. */
  zone: string;
}

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/i;

function bad(text: string, why: string): PgkeepError {
  return new PgkeepError('USAGE', `cannot read the target time "${text}": ${why}`, {
    hint:
      'write it as ISO 8601 (2026-01-02T14:05:00Z, 2026-01-02T14:05:00.5+01:00) or as PostgreSQL prints it ' +
      "(2026-01-02 14:05:00+01, e.g. SELECT now()); without a zone it is read in this machine's local time zone",
  });
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Parse a target time (zone-less input: the local offset in force at that date and time). */
export function parseTargetTime(input: string): TargetTime {
  const text = input.trim();
  const m = TIME_RE.exec(text);
  if (!m) throw bad(input, 'expected YYYY-MM-DD[ HH:MM[:SS[.ffffff]]][zone]');
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const micro = Number((m[7] ?? '').padEnd(6, '0') || 0);
  if (month < 1 || month > 12) throw bad(input, `month ${m[2]} does not exist`);
  if (day < 1 || day > daysIn(year, month)) throw bad(input, `${m[1]}-${m[2]} has no day ${m[3]}`);
  if (hour > 23 || minute > 59 || second > 59) throw bad(input, 'hours run 00-23, minutes and seconds 00-59');
  if (year < 1970) throw bad(input, 'times before 1970 cannot name a moment in a PostgreSQL WAL archive');
  const wallMs = Date.UTC(year, month - 1, day, hour, minute, second);
  let offsetMinutes: number;
  let zone: string;
  const z = m[8]?.toUpperCase();
  if (z === undefined) {
    // The local offset in force at that wall-clock time (DST included; a skipped or repeated time is refused).
    offsetMinutes = readLocalWallTime(input, wallMs).offsetMinutes;
    zone = `local (UTC${formatOffset(offsetMinutes)})`;
  } else if (z === 'Z' || z === 'UTC' || z === 'GMT') {
    offsetMinutes = 0;
    zone = 'UTC';
  } else {
    const sign = z.startsWith('-') ? -1 : 1;
    const digits = z.slice(1).replace(':', '');
    const h = Number(digits.slice(0, 2));
    const mi = Number(digits.slice(2) || 0);
    if (h > 15 || mi > 59) throw bad(input, `the offset ${z} is out of range`);
    offsetMinutes = sign * (h * 60 + mi);
    zone = `UTC${formatOffset(offsetMinutes)}`;
  }
  const micros = (BigInt(wallMs) - BigInt(offsetMinutes) * 60_000n) * 1000n + BigInt(micro);
  return { micros, text: formatPgTime(micros), iso: formatIsoMicros(micros), zone };
}

function parts(micros: bigint): { date: string; time: string; frac: string } {
  const ms = micros / 1000n;
  const d = new Date(Number(ms));
  const iso = d.toISOString();
  const rest = Number(((micros % 1_000_000n) + 1_000_000n) % 1_000_000n);
  const frac = rest === 0 ? '' : `.${String(rest).padStart(6, '0').replace(/0+$/, '')}`;
  return { date: iso.slice(0, 10), time: iso.slice(11, 19), frac };
}

/** `2026-01-02 03:04:05.123456+00`: PostgreSQL's text form, in UTC. */
export function formatPgTime(micros: bigint): string {
  const p = parts(micros);
  return `${p.date} ${p.time}${p.frac}+00`;
}

/** `2026-01-02T03:04:05.123456Z`. */
export function formatIsoMicros(micros: bigint): string {
  const p = parts(micros);
  return `${p.date}T${p.time}${p.frac}Z`;
}

/** Unix microseconds of an ISO time as pgkeep records it (backup meta: millisecond precision). */
export function isoToMicros(iso: string): bigint {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new PgkeepError('DATA_INTEGRITY', `invalid time "${iso}" in a backup's record`);
  // Keep sub-millisecond digits when the text has them.
  const frac = /\.(\d{4,6})/.exec(iso)?.[1];
  const extra = frac ? BigInt(frac.padEnd(6, '0').slice(3)) : 0n;
  return BigInt(ms) * 1000n + extra;
}
