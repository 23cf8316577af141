/**
 * [drill]: defaults of `pgkeep drill` (flags win) and the monitor's limit on its RTO
 * (docs/operations.md). Every key is optional.
 */
import { parseDuration } from './duration.js';

export const DRILL_FIELDS = {
  target: 'string', // latest (default) | random | a time
  random_days: 'integer', // --target random: within the last N days (default 7)
  check_sql: 'string', // file of SQL checks, each returning one boolean
  max_duration: 'string', // e.g. "2h": the drill is stopped (and fails) after this
  max_rto: 'string', // e.g. "30m": the monitor warns when the newest drill's RTO is above it
  sandbox_dir: 'string', // where the sandbox is created (default: the temp directory)
} as const;

export interface DrillSettings {
  target?: string;
  randomDays?: number;
  checkSql?: string;
  maxDurationMs?: number;
  maxRtoMs?: number;
  sandboxDir?: string;
}

export function drillSettings(t: Record<string, unknown> | undefined, file: string | undefined): DrillSettings {
  if (!t) return {};
  const ms = (key: string) => (t[key] === undefined ? undefined : parseDuration(String(t[key]), `drill.${key} in ${file}`));
  const str = (key: string) => (typeof t[key] === 'string' ? t[key] : undefined);
  return {
    target: str('target'),
    randomDays: typeof t.random_days === 'number' ? t.random_days : undefined,
    checkSql: str('check_sql'),
    maxDurationMs: ms('max_duration'),
    maxRtoMs: ms('max_rto'),
    sandboxDir: str('sandbox_dir'),
  };
}
