/**
 * The policy `pgkeep expire` applies: each rule from its flag when given, else from the
 * configuration (PGKEEP_KEEP_* or [retention] in the file). 0 turns a rule off wherever it is
 * given, so `--keep-days 0` disables a keep_days set in the file and keep_last alone decides.
 * The rules combine as in policy.ts: a backup is kept when ANY rule keeps it (and the newest and
 * pinned backups always are); with no rule left, nothing is expired.
 */
import { PgkeepError } from '../errors.js';
import type { RetentionPolicy } from './policy.js';

export interface RetentionFlags {
  keepLast?: string;
  keepDays?: string;
}

function flagValue(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim())) {
    throw new PgkeepError('USAGE', `${flag} must be a whole number (0 turns the rule off), not "${v}"`);
  }
  return Number(v.trim());
}

/** 0 is "off": the rule is left out of the policy. */
function on(v: number | undefined): number | undefined {
  return v === 0 ? undefined : v;
}

export function resolvePolicy(flags: RetentionFlags, configured: RetentionPolicy): RetentionPolicy {
  const keepLast = on(flagValue(flags.keepLast, '--keep-last') ?? configured.keepLast);
  const keepDays = on(flagValue(flags.keepDays, '--keep-days') ?? configured.keepDays);
  return { ...(keepLast !== undefined ? { keepLast } : {}), ...(keepDays !== undefined ? { keepDays } : {}) };
}
