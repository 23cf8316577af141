/**
 * Reading a zone-less wall-clock time in the local time zone (TZ), for recovery targets. Pure
 * apart from reading TZ.
 *
 * - TZ must name a zone pgkeep can read (an IANA name such as Europe/Paris, optionally with a
 *   leading ":"); otherwise Node would silently use UTC (TZ=Mars/Base) or a wrong offset (POSIX
 *   strings such as CET-1CEST), and the restore would stop hours away from the intended moment.
 *   Unset or empty TZ: the system's zone (/etc/localtime; UTC without one), as for every program.
 * - A wall-clock time that does not exist (the hour skipped when clocks go forward) or exists twice
 *   (the hour repeated when they go back) is refused: a recovery target an hour off loses or
 *   replays an hour of transactions, so the user gives the offset, and the hint spells out the
 *   readings there are.
 */
import { PgkeepError } from '../../errors.js';

export interface LocalReading {
  offsetMinutes: number;
  /** "Europe/Paris", or "the system zone" when TZ is unset. */
  zoneName: string;
}

/** Minutes east of UTC in force at the instant `ms` in the local zone. */
function offsetAt(ms: number): number {
  return -new Date(ms).getTimezoneOffset();
}

export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** The local zone's name; USAGE when TZ names a zone that cannot be read. */
export function localZoneName(input: string, env: NodeJS.ProcessEnv = process.env): string {
  const tz = env.TZ;
  const resolved = Intl.DateTimeFormat().resolvedOptions().timeZone as string | undefined;
  if (tz === undefined || tz === '') return resolved && resolved !== 'Etc/Unknown' ? resolved : 'UTC';
  const name = tz.replace(/^:/, '');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
  } catch {
    throw new PgkeepError('USAGE', `the target time "${input}" has no zone, and TZ=${tz} is not a time zone pgkeep can read it in`, {
      hint:
        'set TZ to an IANA zone name (TZ=Europe/Paris, TZ=America/New_York, TZ=UTC), or give the offset in the time ' +
        '(2026-01-02 14:05:00+01)',
      details: { TZ: tz },
    });
  }
  return resolved && resolved !== 'Etc/Unknown' ? resolved : name;
}

/**
 * The offset of the wall-clock time `wallMs` (its fields read as if UTC) in the local zone.
 * USAGE for a time in a DST gap or fold, naming the readings.
 */
export function readLocalWallTime(input: string, wallMs: number): LocalReading {
  const zoneName = localZoneName(input);
  // Every offset in force within a day of the time; a reading is valid when its instant has it.
  const offsets = [...new Set([-36, -12, 0, 12, 36].map((h) => offsetAt(wallMs + h * 3_600_000)))];
  const valid = offsets.filter((off) => offsetAt(wallMs - off * 60_000) === off).sort((a, b) => b - a);
  const shown = input.trim();
  if (valid.length === 1) return { offsetMinutes: valid[0]!, zoneName };
  if (valid.length === 0) {
    const [before, after] = [offsetAt(wallMs - 12 * 3_600_000), offsetAt(wallMs + 12 * 3_600_000)];
    throw new PgkeepError(
      'USAGE',
      `the target time "${shown}" does not exist in ${zoneName}: the clocks skipped it (UTC${formatOffset(before)} became UTC${formatOffset(after)})`,
      {
        hint: `give the offset you mean: "${shown}${formatOffset(before)}" (read in the old offset) or "${shown}${formatOffset(after)}" (in the new one); or a time outside the skipped hour`,
        details: { zone: zoneName, offsets: [before, after].map(formatOffset) },
      },
    );
  }
  throw new PgkeepError('USAGE', `the target time "${shown}" happened twice in ${zoneName} (the clocks went back): it is ambiguous`, {
    hint: `give the offset you mean: ${valid.map((off, i) => `"${shown}${formatOffset(off)}" (the ${i === 0 ? 'first' : 'second'} time)`).join(' or ')}`,
    details: { zone: zoneName, offsets: valid.map(formatOffset) },
  });
}
