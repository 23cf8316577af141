/**
 * Recovery targets from the command line, checked before anything else happens, and the
 * recovery_target* settings PostgreSQL reads for them. Pure.
 */
import { PgkeepError } from '../../errors.js';
import type { ConfValue } from '../../pg/conf-file.js';
import { formatLsn, parseLsn } from '../../pg/lsn.js';
import { parseTargetTime } from './time.js';
import type { PitrRequest, PitrTarget, TargetAction, TimelineChoice } from './types.js';

export interface PitrFlags {
  targetTime?: string;
  targetXid?: string;
  targetLsn?: string;
  targetName?: string;
  /** Only "immediate". */
  target?: string;
  targetAction?: string;
  targetTimeline?: string;
  exclusive?: boolean;
}

const ACTIONS: TargetAction[] = ['pause', 'promote', 'shutdown'];
/** PostgreSQL's MAXFNAMELEN - 1. */
const MAX_NAME = 63;

export function parseTargetXid(text: string): string {
  const t = text.trim();
  if (!/^\d{1,20}$/.test(t) || BigInt(t) > 0xffff_ffff_ffff_ffffn || BigInt(t) % 0x1_0000_0000n < 3n) {
    throw new PgkeepError('USAGE', `invalid transaction id "${text}"`, {
      hint: 'a transaction id is a whole number of 3 or more, as txid_current() / pg_current_xact_id() or the xmin column show it',
    });
  }
  return BigInt(t).toString();
}

export function parseTimelineChoice(text: string): TimelineChoice {
  const t = text.trim().toLowerCase();
  if (t === 'latest' || t === 'current') return t;
  const hex = /^0x([0-9a-f]{1,8})$/.exec(t);
  const n = hex ? parseInt(hex[1]!, 16) : /^\d{1,10}$/.test(t) ? Number(t) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 0xffff_ffff) {
    throw new PgkeepError('USAGE', `invalid --target-timeline "${text}"`, {
      hint: 'use latest (the default), current, or a timeline number such as 2',
    });
  }
  return n;
}

/** The PITR request the flags describe (undefined when they ask for none). Throws USAGE on misuse. */
export function parsePitrFlags(f: PitrFlags): PitrRequest | undefined {
  const given = (
    [
      ['--target-time', f.targetTime],
      ['--target-xid', f.targetXid],
      ['--target-lsn', f.targetLsn],
      ['--target-name', f.targetName],
      ['--target', f.target],
    ] as const
  ).filter(([, v]) => v !== undefined);
  if (given.length > 1) {
    throw new PgkeepError('USAGE', `give one recovery target, not ${given.map(([k]) => k).join(' and ')}`, {
      hint: 'recovery stops at a single point: a time, a transaction, an LSN, a restore point, or immediate',
    });
  }
  let target: PitrTarget | undefined;
  if (f.targetTime !== undefined) target = { kind: 'time', time: parseTargetTime(f.targetTime) };
  else if (f.targetXid !== undefined) target = { kind: 'xid', xid: parseTargetXid(f.targetXid) };
  else if (f.targetLsn !== undefined) target = { kind: 'lsn', lsn: parseLsn(f.targetLsn) };
  else if (f.targetName !== undefined) {
    const name = f.targetName;
    if (name.length === 0 || Buffer.byteLength(name) > MAX_NAME) {
      throw new PgkeepError('USAGE', `invalid restore point name "${name}"`, {
        hint: `a restore point name has 1 to ${MAX_NAME} bytes, as given to pg_create_restore_point()`,
      });
    }
    target = { kind: 'name', name };
  } else if (f.target !== undefined) {
    if (f.target.trim().toLowerCase() !== 'immediate') {
      throw new PgkeepError('USAGE', `--target accepts only "immediate", not "${f.target}"`, {
        hint: 'use --target-time, --target-xid, --target-lsn or --target-name for the other targets',
      });
    }
    target = { kind: 'immediate' };
  }
  let action: TargetAction | undefined;
  if (f.targetAction !== undefined) {
    action = f.targetAction.trim().toLowerCase() as TargetAction;
    if (!ACTIONS.includes(action)) {
      throw new PgkeepError('USAGE', `invalid --target-action "${f.targetAction}"`, {
        hint: 'use promote (the default), pause or shutdown',
      });
    }
    if (!target) {
      throw new PgkeepError('USAGE', '--target-action needs a recovery target', {
        hint: 'without a target, recovery replays all archived WAL and then promotes; add --target-time, --target-xid, --target-lsn, --target-name or --target immediate',
      });
    }
  }
  if (f.exclusive && !(target && ['time', 'xid', 'lsn'].includes(target.kind))) {
    throw new PgkeepError('USAGE', '--exclusive applies to --target-time, --target-xid and --target-lsn only', {
      hint: 'a restore point and "immediate" are single positions; there is nothing to exclude',
    });
  }
  const timeline = f.targetTimeline !== undefined ? parseTimelineChoice(f.targetTimeline) : undefined;
  if (!target && timeline === undefined) return undefined;
  return {
    ...(target ? { target } : {}),
    action: action ?? 'promote',
    timeline: timeline ?? 'latest',
    exclusive: Boolean(f.exclusive),
  };
}

/** The target as PostgreSQL reads it. */
export function targetValue(t: PitrTarget): string {
  switch (t.kind) {
    case 'time':
      return t.time.text;
    case 'xid':
      return t.xid;
    case 'lsn':
      return formatLsn(t.lsn);
    case 'name':
      return t.name;
    case 'immediate':
      return 'immediate';
  }
}

/** recovery_target* settings for a request (timeline as resolved: a number, or latest/current). */
export function targetSettings(r: PitrRequest, timeline: TimelineChoice): Record<string, ConfValue> {
  const s: Record<string, ConfValue> = {};
  const t = r.target;
  if (t) {
    const key = {
      time: 'recovery_target_time',
      xid: 'recovery_target_xid',
      lsn: 'recovery_target_lsn',
      name: 'recovery_target_name',
      immediate: 'recovery_target',
    }[t.kind];
    s[key] = targetValue(t);
    if (t.kind !== 'immediate' && t.kind !== 'name') s.recovery_target_inclusive = r.exclusive ? 'off' : 'on';
    s.recovery_target_action = r.action ?? 'promote';
  }
  s.recovery_target_timeline = typeof timeline === 'number' ? String(timeline) : timeline;
  return s;
}
