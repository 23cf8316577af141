/**
 * Plan a point-in-time recovery before anything is written, as a list of steps:
 *
 *   list backups -> read the archive (listing, histories) -> resolve the timeline -> choose the
 *   backup -> check the backup can become consistent -> check the target is reachable -> settings
 *
 * Reachability is judged from the WAL itself: the archived segments are read (newest first, at
 * most `scanLimit` of them) for commit/abort records and restore points, so a target past the
 * last transaction in the archive, a restore point that was never archived or a transaction
 * that never ended is refused with the exact reachable range. Complete segments only: WAL
 * still on the server (or only in a .partial) does not count.
 *
 * Without a target the plan is "the latest point": the newest backup on the history of the
 * timeline recovery follows (latest by default), as every restore that recovers from the archive
 * needs — PostgreSQL refuses to start a backup that is not on that timeline's history.
 */
import { PgkeepError } from '../../errors.js';
import { readPhysicalMeta, type MetaSource } from '../../holdings/read-physical-meta.js';
import { resolveSnapshot } from '../../holdings/physical-snapshot.js';
import { readableSnapshots } from '../../holdings/snapshot-ref.js';
import { formatLsn, parseLsn } from '../../pg/lsn.js';
import { historyFileName } from '../../pg/wal-name.js';
import {
  backupOnTimeline,
  newestTimeline,
  readArchiveFacts,
  segmentName,
  segmentRun,
  type ArchiveFacts,
  type SegmentRun,
} from './archive.js';
import { describeGap, findGap } from './archive-gap.js';
import type { ScanBudget } from './scan.js';
import { targetSettings, targetValue } from './target.js';
import { isoToMicros } from './time.js';
import type { ArchiveGap, ArchiveReach, PitrPlan, PitrRequest } from './types.js';
import { describeEvent, type WalEvent } from '../../pg/wal/records.js';
import { describeWal } from './wal-used.js';
import { explicitId, time, type Backup, type PitrPlanInput } from './plan-input.js';
import { findNamedTarget } from './named-target.js';
import { checkReach } from './reach.js';

export type { PitrPlanInput } from './plan-input.js';

export async function planPitr(input: PitrPlanInput): Promise<PitrPlan> {
  const { repo, cluster, request } = input;
  const target = request.target;
  const warnings: string[] = [];
  const budget: ScanBudget = { segments: input.scanLimit ?? 256, read: 0 };

  // Step: list backups (and the given one).
  const all = await physicalBackups(repo, cluster);
  const given = explicitId(input) ? await givenBackup(repo, cluster, input.id!, all) : undefined;
  const systemId = (given ?? all[all.length - 1]!).meta.systemIdentifier;
  const backups = all.filter((b) => b.meta.systemIdentifier === systemId);

  // Step: read the archive (listing and history files).
  const facts = await readArchiveFacts(repo, cluster, systemId, (given ?? backups[backups.length - 1]!).meta.walSegmentSize);

  // Step: resolve the timeline; keep the backups on its history.
  const timelineOf = (b: Backup) => resolveTimeline(b, request.timeline ?? 'latest', facts, backups);
  const onPath = backups.filter((b) => backupOnTimeline(b.meta, timelineOf(b), facts.histories));
  const candidates = given ? [given] : onPath;
  if (given && !backupOnTimeline(given.meta, timelineOf(given), facts.histories)) {
    const tli = timelineOf(given);
    const latest = (request.timeline ?? 'latest') === 'latest';
    throw new PgkeepError(
      'NOT_FOUND',
      `backup ${given.id} (timeline ${given.meta.timeline}, ${given.meta.startLsn}..${given.meta.stopLsn}) is not on the history of timeline ${tli}${latest ? ', the latest timeline, which recovery follows by default' : ''}: PostgreSQL would refuse to start it ("requested timeline ${tli} is not a child of this server's history")`,
      {
        hint:
          `timeline ${tli} branched off before this backup was taken, or from another timeline; omit the id (or give "latest") to let pgkeep choose a backup on its history, ` +
          `or follow the backup's own timeline with --target-timeline current (or ${given.meta.timeline})`,
        details: { backup: given.id, backupTimeline: given.meta.timeline, timeline: tli, history: historyText(facts, tli) },
      },
    );
  }
  if (candidates.length === 0) {
    const newest = backups[backups.length - 1]!;
    const tli = typeof request.timeline === 'number' ? request.timeline : timelineOf(newest);
    throw new PgkeepError(
      'NOT_FOUND',
      `no backup of cluster "${cluster}" is on the history of timeline ${tli}${typeof request.timeline === 'number' ? '' : ' (the latest)'}`,
      {
        hint:
          'recovery can only follow a timeline from a backup taken on it or on one of its ancestors before it branched off; ' +
          "take a new backup, or follow a backup's own timeline with --target-timeline current",
        details: { timeline: tli, history: historyText(facts, tli) },
      },
    );
  }

  // Step: choose the backup (time and LSN targets: the newest that ended before the target).
  let chosen: Backup;
  let reason: string;
  let found: WalEvent | undefined;
  if (target?.kind === 'time' || target?.kind === 'lsn') {
    const before = (b: Backup) => (target.kind === 'time' ? b.stopMicros < target.time.micros : b.stopLsn <= target.lsn);
    const describeEnd = (b: Backup) => (target.kind === 'time' ? `${time(b.stopMicros)}` : b.meta.stopLsn);
    const eligible = candidates.filter(before);
    if (eligible.length === 0) {
      const oldest = candidates[0]!;
      const what = target.kind === 'time' ? target.time.text : formatLsn(target.lsn);
      throw new PgkeepError(
        'NOT_FOUND',
        given
          ? `the target ${what} is before backup ${given.id} ended (${describeEnd(given)}): recovery cannot stop before the backup is consistent`
          : `the target ${what} is before the earliest reachable point, ${describeEnd(oldest)} (the end of the oldest backup, ${oldest.id})`,
        {
          hint:
            given && backups[0] !== given
              ? `the earliest reachable point is ${describeEnd(backups[0]!)} (end of backup ${backups[0]!.id}); omit the id and pgkeep chooses the newest backup that ended before the target`
              : "choose a later target; a point before the oldest backup's end cannot be recovered (pgkeep list shows the backups)",
          details: { earliest: describeEnd(given ?? oldest) },
        },
      );
    }
    chosen = eligible[eligible.length - 1]!;
    reason = given
      ? `backup ${chosen.id}, as given`
      : `the newest backup that ended before the target: ${chosen.id}, ended ${time(chosen.stopMicros)} at ${chosen.meta.stopLsn}`;
  } else if (target?.kind === 'xid' || target?.kind === 'name') {
    const r = await findNamedTarget(input, facts, candidates, given ? [given, ...onPath] : candidates, timelineOf, budget, warnings);
    chosen = r.chosen;
    reason = r.reason;
    found = r.found;
  } else {
    chosen = candidates[candidates.length - 1]!;
    reason = given ? `backup ${chosen.id}, as given` : newestReason(chosen, backups, timelineOf(chosen));
  }

  // Step: the chosen backup must become consistent from the archive.
  const tli = timelineOf(chosen);
  const run = segmentRun(facts, chosen.meta, tli);
  const consistent = checkConsistent(facts, chosen, run, input.plain ? warnings : undefined);

  // Step: is the target within the archive's reach? (Never past a known gap.)
  const gap = consistent ? findGap(facts, run) : undefined;
  const reach =
    consistent || run.last !== undefined ? await checkReach(input, facts, chosen, run, found, gap, budget, warnings) : undefined;
  if (reach) reach.segmentsRead = budget.read;
  if (gap && reach) refuseOrWarnGap(chosen, gap, reach, target !== undefined, warnings);

  return {
    snapshotId: chosen.id,
    reason,
    settings: targetSettings(request, request.timeline ?? 'latest'),
    ...(target
      ? { target: { kind: target.kind, value: targetValue(target), ...(target.kind === 'time' ? { zone: target.time.zone } : {}) } }
      : {}),
    action: request.action ?? 'promote',
    timeline: tli,
    backupEnd: { lsn: chosen.meta.stopLsn, time: chosen.meta.stopTime },
    ...(reach ? { reach } : {}),
    ...(found ? { found: describeEvent(found, time) } : {}),
    wal: describeWal(facts, chosen.meta, run, reach, gap),
    warnings,
  };
}

/**
 * A gap after the reachable WAL: without a target, recovery would stop at it and promote,
 * silently abandoning what was archived after it — refused, naming the last reachable point. With
 * an explicit target (checked above to be before the gap) it is said, not refused.
 */
function refuseOrWarnGap(b: Backup, gap: ArchiveGap, reach: ArchiveReach, targeted: boolean, warnings: string[]): void {
  if (targeted) {
    warnings.push(`${describeGap(gap)}; the target is before the gap, but nothing archived after it can be recovered from backup ${b.id}`);
    return;
  }
  const point = reach.lastRecordLsn ?? reach.endLsn;
  throw new PgkeepError(
    'NOT_FOUND',
    `cannot recover backup ${b.id} to the latest point: ${describeGap(gap)}; ` +
      `recovery would stop at ${point} (${reach.lastRecordLsn ? 'the start of the last record' : 'the end'} of ${reach.lastSegment}) and promote, abandoning the WAL after the gap`,
    {
      hint:
        `if the server is still archiving ${gap.missing === 1 ? 'it' : 'them'} (a failing or lagging archiver), wait and restore again; ` +
        `put the missing segment${gap.missing === 1 ? '' : 's'} back into the archive if a copy exists (the server's pg_wal/, then "pgkeep wal push"; "pgkeep wal check" lists the gaps) and restore again; ` +
        `or, to accept losing everything after the gap, give the last reachable point as the target: --target-lsn ${point} (or a --target-time before the gap)`,
      details: { gap, lastReachable: point, lastSegment: reach.lastSegment },
    },
  );
}

async function physicalBackups(repo: PitrPlanInput['repo'], cluster: string): Promise<Backup[]> {
  const manifests = (await readableSnapshots(repo, cluster, 'physical')).matching;
  if (manifests.length === 0) await resolveSnapshot(repo, cluster, 'latest'); // throws NOT_FOUND with its hint
  return manifests
    .map(toBackup)
    .sort((a, b) => (a.stopLsn < b.stopLsn ? -1 : a.stopLsn > b.stopLsn ? 1 : a.stopMicros < b.stopMicros ? -1 : 1));
}

function toBackup(m: MetaSource): Backup {
  const meta = readPhysicalMeta(m);
  return { id: m.id, meta, stopMicros: isoToMicros(meta.stopTime), stopLsn: parseLsn(meta.stopLsn), startLsn: parseLsn(meta.startLsn) };
}

async function givenBackup(repo: PitrPlanInput['repo'], cluster: string, id: string, all: Backup[]): Promise<Backup> {
  const { snapshot } = await resolveSnapshot(repo, cluster, id);
  return all.find((b) => b.id === snapshot.id) ?? toBackup(snapshot);
}

function resolveTimeline(b: Backup, choice: PitrRequest['timeline'], facts: ArchiveFacts, backups: Backup[]): number {
  if (choice === 'current') return b.meta.timeline;
  if (choice === 'latest' || choice === undefined) return newestTimeline(b.meta.timeline, facts.histories);
  if (choice !== b.meta.timeline && !facts.histories.has(choice) && !backups.some((x) => x.meta.timeline === choice)) {
    const known = [...new Set([1, ...facts.histories.keys(), ...backups.map((x) => x.meta.timeline)])].sort((x, y) => x - y);
    throw new PgkeepError(
      'NOT_FOUND',
      `timeline ${choice} does not exist in the archive of cluster "${facts.cluster}": there is no ${historyFileName(choice)}`,
      {
        hint: `timelines known: ${known.join(', ')}; a promotion creates a new timeline and archives its history file (pgkeep wal check lists them)`,
        details: { timelines: known },
      },
    );
  }
  return choice;
}

function historyText(facts: ArchiveFacts, tli: number): string {
  return (facts.histories.get(tli) ?? []).map((e) => `timeline ${e.parentTimeline} until ${formatLsn(e.switchpoint)}`).join('; ');
}

/**
 * Can the backup become consistent from the archive? Refused when not — or, given `warnings`
 * (a plain restore), said there and false returned.
 */
function checkConsistent(facts: ArchiveFacts, b: Backup, run: SegmentRun, warnings?: string[]): boolean {
  if (run.last !== undefined && run.last >= run.needed) return true;
  const missing = segmentName(facts, run, run.last === undefined ? run.first : run.last + 1n);
  const needs = b.meta.walEnd || b.meta.stopLsn;
  if (warnings) {
    warnings.push(
      `the archive lacks ${missing}, which backup ${b.id} needs to become consistent (WAL up to ${needs}): ` +
        'the restored server cannot start until it is archived (check archive_command and run "pgkeep wal check"), ' +
        'or until you copy it into pg_wal/ yourself',
    );
    return false;
  }
  throw new PgkeepError(
    'NOT_FOUND',
    `backup ${b.id} cannot be made consistent: the archive lacks ${missing} (it needs the WAL up to ${needs})`,
    {
      hint: 'check archive_command on the server and run "pgkeep wal check"; a backup taken with --standalone carries its own WAL',
    },
  );
}

/** Why the newest backup on the path: and, when newer ones exist off it, why they were passed over. */
function newestReason(chosen: Backup, backups: Backup[], tli: number): string {
  const newer = backups.filter((b) => b.stopLsn > chosen.stopLsn || (b.stopLsn === chosen.stopLsn && b.stopMicros > chosen.stopMicros));
  if (newer.length === 0) return `the newest backup: ${chosen.id}`;
  return (
    `the newest backup on the history of timeline ${tli}: ${chosen.id} ` +
    `(newer ${newer.length === 1 ? 'backup' : 'backups'} ${newer.map((b) => `${b.id} (timeline ${b.meta.timeline})`).join(', ')} ` +
    `${newer.length === 1 ? 'is' : 'are'} not on it: taken after timeline ${tli} branched off, or on another timeline)`
  );
}

/** An id was given ("latest" and "latest-physical" let pgkeep choose, as no id does). */
