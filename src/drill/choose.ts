/**
 * Phase "choose": the target and the backup. latest = the end of the archive (every archived
 * WAL record recovery can reach); random = a random moment between the end of the oldest backup
 * (or N days ago, whichever is later) and the newest commit in the archive; a time = that moment.
 * The backup is the one point-in-time recovery would choose (restore/pitr: the newest on the
 * timeline's history that ended before the target), and the plan checks the archive reaches it.
 *
 * A plan the archive cannot satisfy (a missing segment, a gap before the target) is the WAL's
 * failure, not the choice's: it is returned as `walError`, and the drill fails in phase "wal"
 * before any file is restored.
 */
import { PgkeepError } from '../errors.js';
import { readableSnapshots } from '../holdings/snapshot-ref.js';
import { readPhysicalMeta } from '../holdings/read-physical-meta.js';
import type { DrillRecord } from '../holdings/drill-records.js';
import { parseTargetTime, planPitr, type PitrPlan, type PitrRequest, type TargetTime } from '../restore/index.js';
import type { Repository } from '../repo/index.js';

export type DrillTargetSpec = { kind: 'latest' } | { kind: 'random'; days: number } | { kind: 'time'; time: TargetTime };

export const DEFAULT_RANDOM_DAYS = 7;

/** --target as given: latest (default), random, or a time. USAGE error for anything else. */
export function parseDrillTarget(spec: string | undefined, randomDays?: number): DrillTargetSpec {
  if (randomDays !== undefined && (!Number.isInteger(randomDays) || randomDays < 1)) {
    throw new PgkeepError('USAGE', `--random-days must be a whole number of days, at least 1, got ${randomDays}`);
  }
  const s = (spec ?? 'latest').trim();
  if (s === 'latest') return { kind: 'latest' };
  if (s === 'random') return { kind: 'random', days: randomDays ?? DEFAULT_RANDOM_DAYS };
  try {
    return { kind: 'time', time: parseTargetTime(s) };
  } catch (e) {
    const err = e instanceof PgkeepError ? e : undefined;
    throw new PgkeepError('USAGE', `--target "${s}" is neither latest, random nor a time${err ? ` (${err.message})` : ''}`, {
      hint: 'give latest (the end of the archive), random, or a moment such as "2026-01-02 14:05:00+01"',
    });
  }
}

export interface Chosen {
  target: DrillRecord['target'];
  plan?: PitrPlan;
  /** The archive cannot take the backup to the target: the drill fails in phase "wal" with it. */
  walError?: PgkeepError;
  /** The newest commit in the archive (for the RPO), when the WAL was read for it. */
  newestCommit?: string;
}

interface ChooseInput {
  repo: Repository;
  cluster: string;
  spec: DrillTargetSpec;
  now: Date;
  random: () => number;
  signal?: AbortSignal;
}

/** A planning error that is about the archived WAL (gap, missing segment, target beyond the archive). */
export function isWalPlanError(e: unknown): e is PgkeepError {
  if (!(e instanceof PgkeepError) || e.code !== 'NOT_FOUND') return false;
  return Boolean(e.details?.gap) || /archive lacks|archived WAL|in the archive|the archive (has|ends)/.test(e.message);
}

/** The plan's refusal of a target after the newest archived commit (whose time it gives). */
function pastReach(e: unknown): e is PgkeepError {
  return e instanceof PgkeepError && typeof e.details?.latest === 'string' && Number.isFinite(Date.parse(e.details.latest));
}

export async function chooseTarget(i: ChooseInput): Promise<Chosen> {
  const plan = (request: PitrRequest) => planPitr({ repo: i.repo, cluster: i.cluster, request, signal: i.signal });
  const base: PitrRequest = { action: 'promote', timeline: 'latest', exclusive: false };
  const planned = async (target: DrillRecord['target'], request: PitrRequest): Promise<Chosen> => {
    try {
      const p = await plan(request);
      return { target, plan: p, ...(p.reach?.lastTransaction ? { newestCommit: p.reach.lastTransaction.time } : {}) };
    } catch (e) {
      // random: a draw past the newest archived commit is drawn again (below), not a failure
      if (isWalPlanError(e) && !(target.kind === 'random' && pastReach(e))) return { target, walError: e };
      throw e;
    }
  };
  if (i.spec.kind === 'time') {
    return planned({ kind: 'time', time: i.spec.time.iso }, { ...base, target: { kind: 'time', time: i.spec.time } });
  }
  if (i.spec.kind === 'latest') {
    const latest = await planned({ kind: 'latest' }, base);
    if (latest.plan) latest.target.lsn = latest.plan.wal.upTo.lsn;
    return latest;
  }
  // random: a moment from the window's start to now; when that is past the newest archived commit,
  // the plan says when that commit was, and the moment is drawn again up to it.
  const from = Math.max((await oldestBackupEnd(i.repo, i.cluster)) + 1000, i.now.getTime() - i.spec.days * 86_400_000);
  const pick = (to: number) => parseTargetTime(new Date(to <= from ? to : from + Math.floor(i.random() * (to - from))).toISOString());
  const attempt = (time: TargetTime) => planned({ kind: 'random', time: time.iso }, { ...base, target: { kind: 'time', time } });
  try {
    return await attempt(pick(i.now.getTime()));
  } catch (e) {
    if (!pastReach(e)) throw e;
    const newest = Date.parse(String(e.details?.latest));
    return attempt(pick(newest - 1));
  }
}

async function oldestBackupEnd(repo: Repository, cluster: string): Promise<number> {
  const { matching } = await readableSnapshots(repo, cluster, 'physical');
  const ends = matching.map((m) => Date.parse(readPhysicalMeta(m).stopTime)).filter((t) => Number.isFinite(t));
  return ends.length ? Math.min(...ends) : 0;
}
