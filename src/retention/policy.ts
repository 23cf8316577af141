/**
 * Which physical backups a retention policy keeps. Pure: no I/O, the clock is a parameter.
 *
 * - keep_last N: the N newest backups.
 * - keep_days D: a recovery window of D days — every backup that ended inside the window, plus
 *   the newest one that ended before it (without it, the start of the window could not be
 *   recovered to).
 * - Both set: a backup is kept when either rule keeps it (the safer reading). policy-flags.ts
 *   resolves the flags, the environment and the file into this policy (0 turns a rule off).
 * - The newest backup and pinned backups are always kept.
 * - Neither set: nothing is expired (no policy configured).
 */
import { PgkeepError } from '../errors.js';

export interface RetentionPolicy {
  keepLast?: number;
  keepDays?: number;
}

export interface PolicyBackup {
  id: string;
  /** ISO time the backup ended. */
  stopTime: string;
  pinned: boolean;
}

export type KeepReason = 'newest' | 'pinned' | 'keep_last' | 'keep_days' | 'keep_days start' | 'no policy';

export interface PolicyDecision {
  id: string;
  stopTime: string;
  keep: boolean;
  reasons: KeepReason[];
}

export function checkPolicy(p: RetentionPolicy): void {
  for (const [key, v] of [
    ['keep_last', p.keepLast],
    ['keep_days', p.keepDays],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
      throw new PgkeepError('CONFIG', `[retention] ${key} must be a whole number of at least 1, not ${v}`, {
        hint: 'set a positive number, or 0 (or no setting) to turn the rule off',
      });
    }
  }
}

export function hasPolicy(p: RetentionPolicy): boolean {
  return p.keepLast !== undefined || p.keepDays !== undefined;
}

/** Decide for every backup; the result is in the order given (oldest first expected). */
export function applyPolicy(backups: PolicyBackup[], policy: RetentionPolicy, now: Date): PolicyDecision[] {
  checkPolicy(policy);
  const byAge = [...backups].sort((a, b) => Date.parse(b.stopTime) - Date.parse(a.stopTime) || (b.id < a.id ? -1 : 1));
  const reasons = new Map<string, KeepReason[]>(backups.map((b) => [b.id, []]));
  const add = (id: string, r: KeepReason) => reasons.get(id)!.push(r);
  if (byAge[0]) add(byAge[0].id, 'newest');
  for (const b of backups) if (b.pinned) add(b.id, 'pinned');
  if (!hasPolicy(policy)) for (const b of backups) add(b.id, 'no policy');
  if (policy.keepLast !== undefined) for (const b of byAge.slice(0, policy.keepLast)) add(b.id, 'keep_last');
  if (policy.keepDays !== undefined) {
    const windowStart = now.getTime() - policy.keepDays * 86_400_000;
    const inside = byAge.filter((b) => Date.parse(b.stopTime) >= windowStart);
    for (const b of inside) add(b.id, 'keep_days');
    const before = byAge.find((b) => Date.parse(b.stopTime) < windowStart);
    if (before) add(before.id, 'keep_days start');
  }
  return backups.map((b) => ({ id: b.id, stopTime: b.stopTime, keep: reasons.get(b.id)!.length > 0, reasons: reasons.get(b.id)! }));
}

/**
 * WAL a set of kept backups no longer needs: files positioned before the earliest first segment
 * of any kept backup (positions compare by the log+seg digits, whatever the timeline: recovery
 * only moves forward from a backup's start). History files are always kept.
 */
export function walIsExpired(fileName: string, earliestNeeded: string): boolean {
  if (fileName.endsWith('.history')) return false;
  return fileName.slice(8, 24) < earliestNeeded.slice(8, 24);
}
