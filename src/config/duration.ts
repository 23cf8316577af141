/**
 * Durations in settings and flags: "60s", "5m", "1h", "1500ms", or a bare number of seconds.
 */
import { PgkeepError, type ErrorCode } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** Milliseconds of a duration; `from` names the flag or key for the error (USAGE for flags, CONFIG otherwise). */
export function parseDuration(spec: string | number, from: string, code: ErrorCode = from.startsWith('--') ? 'USAGE' : 'CONFIG'): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|)$/i.exec(String(spec).trim());
  const ms = m ? Math.round(Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!) : NaN;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new PgkeepError(code, `invalid duration "${spec}" (from ${from})`, {
      hint: 'use a positive number with a unit: 500ms, 30s, 5m, 1h (a bare number is seconds)',
    });
  }
  return ms;
}

/** "60s", "5m", "1500ms": the shortest exact way to print a duration. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
