/**
 * Step "choose the backup" for --target-xid and --target-name: the record is looked for in the
 * archived WAL (newest first), then the newest backup that ended before it is chosen.
 */
import { PgkeepError } from '../../errors.js';
import { describeEvent, type WalEvent } from '../../pg/wal/records.js';
import { segmentName, segmentRun, type ArchiveFacts } from './archive.js';
import { describeGap, findGap } from './archive-gap.js';
import { scanBackward, type ScanBudget } from './scan.js';
import { explicitId, time, type Backup, type PitrPlanInput } from './plan-input.js';

/** For --target-xid / --target-name: find the record in the archive, then the newest backup that ended before it. */
export async function findNamedTarget(
  input: PitrPlanInput,
  facts: ArchiveFacts,
  candidates: Backup[],
  scanFrom: Backup[],
  timelineOf: (b: Backup) => number,
  budget: ScanBudget,
  warnings: string[],
): Promise<{ chosen: Backup; reason: string; found?: WalEvent }> {
  const target = input.request.target!;
  const newest = candidates[candidates.length - 1]!;
  const run = segmentRun(facts, newest.meta, timelineOf(newest));
  // Read from the oldest backup's start even when one is given, to tell "before its end" from "not there".
  const lowest = scanFrom.map((b) => segmentRun(facts, b.meta, timelineOf(newest)).first).reduce((a, b) => (b < a ? b : a));
  const xid = target.kind === 'xid' ? Number(BigInt(target.xid) % 0x1_0000_0000n) : undefined;
  const matches = (e: WalEvent) =>
    target.kind === 'xid'
      ? e.kind !== 'restore-point' && !e.prepared && e.xid === xid
      : e.kind === 'restore-point' && e.name === (target as { name: string }).name;
  const hits: WalEvent[] = [];
  const scan = await scanBackward(
    input.repo,
    facts,
    run,
    lowest,
    budget,
    (w) => {
      hits.push(...w.events.filter(matches));
      return hits.length > 0 && target.kind === 'xid';
    },
    input.signal,
  );
  const what = target.kind === 'xid' ? `transaction ${target.xid}` : `restore point "${target.kind === 'name' ? target.name : ''}"`;
  const gap = findGap(facts, run);
  const range =
    (run.last === undefined ? 'no archived WAL' : `${segmentName(facts, run, lowest)} .. ${segmentName(facts, run, run.last)}`) +
    (gap ? `; ${describeGap(gap)}` : '');
  if (hits.length === 0) {
    if (!scan.complete) {
      warnings.push(
        `${what} was not found in the newest ${budget.read} archived segments (the check reads at most that many); ` +
          'recovery may end before reaching it, and the server then stops with "recovery ended before configured recovery target was reached"',
      );
      return {
        chosen: newest,
        reason: `the newest backup, ${newest.id} (${what} was not found in the WAL read, so pgkeep could not pick by position)`,
      };
    }
    throw new PgkeepError(
      'NOT_FOUND',
      target.kind === 'xid'
        ? `transaction ${target.xid} did not commit or abort in the archived WAL after the backups' start (${range})`
        : `there is no restore point named "${target.kind === 'name' ? target.name : ''}" in the archived WAL after the backups' start (${range})`,
      {
        hint:
          target.kind === 'xid'
            ? 'a transaction id names the transaction whose commit (or abort) ends recovery; check it (it may still be open, or older than the oldest backup), or the WAL holding it has not been archived yet (SELECT pg_switch_wal())'
            : "create it with SELECT pg_create_restore_point('NAME') and make sure its WAL is archived (SELECT pg_switch_wal()); names are case-sensitive",
      },
    );
  }
  hits.sort((a, b) => (a.lsn < b.lsn ? -1 : a.lsn > b.lsn ? 1 : 0));
  for (const b of [...candidates].reverse()) {
    const first = hits.find((e) => e.lsn >= b.startLsn);
    if (first && first.lsn >= b.stopLsn) {
      return {
        chosen: b,
        found: first,
        reason:
          candidates.length === 1 && explicitId(input)
            ? `backup ${b.id}, as given`
            : `the newest backup that ended before the ${describeEvent(first, time)}: ${b.id}`,
      };
    }
  }
  const first = hits[0]!;
  const oldest = candidates[0]!;
  throw new PgkeepError(
    'NOT_FOUND',
    `the ${describeEvent(first, time)} is before the end of ${explicitId(input) ? `backup ${oldest.id}` : `the oldest backup, ${oldest.id}`} (${oldest.meta.stopLsn}, ${time(oldest.stopMicros)}): no backup can recover to it`,
    {
      hint: explicitId(input)
        ? 'omit the id and pgkeep chooses a backup that ended before the target, if there is one'
        : 'the earliest reachable point is the end of the oldest backup (pgkeep list)',
    },
  );
}
