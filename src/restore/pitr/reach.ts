/**
 * Step "is the target within the archive's reach": judged from the WAL itself (the newest archived
 * segments are read for the last transaction end or the last record), never past a known gap.
 */
import { PgkeepError } from '../../errors.js';
import { formatLsn, parseLsn, segmentOfLsn } from '../../pg/lsn.js';
import { describeEvent, type WalEvent } from '../../pg/wal/records.js';
import { segmentEnd, segmentName, segmentObject, type ArchiveFacts, type SegmentRun } from './archive.js';
import { describeGap } from './archive-gap.js';
import { scanBackward, type ScanBudget } from './scan.js';
import { formatIsoMicros } from './time.js';
import type { ArchiveGap, ArchiveReach } from './types.js';
import { time, type Backup, type PitrPlanInput } from './plan-input.js';

export async function checkReach(
  input: PitrPlanInput,
  facts: ArchiveFacts,
  b: Backup,
  run: SegmentRun,
  found: WalEvent | undefined,
  gap: ArchiveGap | undefined,
  budget: ScanBudget,
  warnings: string[],
): Promise<ArchiveReach> {
  const target = input.request.target;
  const last = run.last!;
  const reach: ArchiveReach = {
    timeline: run.path[run.path.length - 1]!.timeline,
    firstSegment: segmentName(facts, run, run.first),
    lastSegment: segmentName(facts, run, last),
    endLsn: formatLsn(segmentEnd(facts, last)),
    segmentsRead: 0,
  };
  const lowest = segmentOfLsn(b.stopLsn, facts.segmentSize);
  // Where the reachable WAL ends: "the last archived record" only when nothing was archived after a gap.
  const ending = gap
    ? `the last WAL record before the gap, in ${reach.lastSegment}; ${describeGap(gap)}`
    : `the last WAL record archived, in ${reach.lastSegment}`;
  const lastTxWhere = gap ? `before the gap after ${reach.lastSegment} (${describeGap(gap)})` : `in the archived WAL`;
  const everything = gap
    ? 'the WAL after the gap cannot be replayed unless the missing segments are put back into the archive ("pgkeep wal check" lists them)'
    : 'to recover everything archived, omit the target';
  if (target?.kind === 'time') {
    const inclusive = !input.request.exclusive;
    let lastTx: WalEvent | undefined;
    const scan = await scanBackward(
      input.repo,
      facts,
      run,
      lowest,
      budget,
      (w) => {
        const txs = w.events.filter((e) => e.kind !== 'restore-point' && e.lsn >= b.stopLsn);
        if (txs.length) lastTx = txs[txs.length - 1];
        if (w.lastRecord !== undefined && reach.lastRecordLsn === undefined) reach.lastRecordLsn = formatLsn(w.lastRecord);
        return lastTx !== undefined;
      },
      input.signal,
    );
    const T = target.time.micros;
    if (lastTx && lastTx.kind !== 'restore-point') {
      reach.lastTransaction = { xid: lastTx.xid, kind: lastTx.kind, time: formatIsoMicros(lastTx.time), lsn: formatLsn(lastTx.lsn) };
      if (inclusive ? T >= lastTx.time : T > lastTx.time) {
        throw new PgkeepError(
          'NOT_FOUND',
          `the target ${target.time.text} is past the latest reachable point: the last transaction ${lastTxWhere} ended at ${time(lastTx.time)} (${lastTx.kind} of transaction ${lastTx.xid}, LSN ${formatLsn(lastTx.lsn)}, in ${reach.lastSegment})`,
          {
            hint:
              'recovery stops at the first transaction that ended after the target, so the archive must hold one; ' +
              `${everything}; if the server has newer WAL, make it archive it (SELECT pg_switch_wal()) and try again`,
            details: { latest: formatIsoMicros(lastTx.time), lastSegment: reach.lastSegment },
          },
        );
      }
    } else if (scan.complete) {
      throw new PgkeepError(
        'NOT_FOUND',
        `no transaction ended ${lastTxWhere} after backup ${b.id} ended (${time(b.stopMicros)}), so recovery cannot stop at ${target.time.text}: the latest reachable point is the backup's end`,
        {
          hint: "restore with --target immediate (the backup's end) or without a target; if the server has newer WAL, make it archive it (SELECT pg_switch_wal())",
        },
      );
    } else {
      const obj = segmentObject(facts, run, last);
      const ms = obj ? await statMtime(input, obj.object) : Number.NaN;
      const mtime = Number.isFinite(ms) ? BigInt(Math.round(ms)) * 1000n : undefined;
      if (mtime !== undefined && T > mtime) {
        throw new PgkeepError(
          'NOT_FOUND',
          `the target ${target.time.text} is past the latest reachable point: the newest archived segment, ${reach.lastSegment}, was stored at ${time(mtime)}`,
          {
            hint: everything,
          },
        );
      }
      warnings.push(
        `no transaction end was found in the newest ${budget.read} archived segments; the target time could only be checked against when ${reach.lastSegment} was stored`,
      );
    }
  } else if (!target || target.kind === 'lsn') {
    // The last reachable record (one segment read): an LSN target's bound, and the latest point's end, checked after recovery.
    await scanBackward(
      input.repo,
      facts,
      run,
      lowest,
      budget,
      (w) => {
        if (w.lastRecord !== undefined) reach.lastRecordLsn = formatLsn(w.lastRecord);
        return w.lastRecord !== undefined;
      },
      input.signal,
    );
    const latest = reach.lastRecordLsn ? parseLsn(reach.lastRecordLsn) : segmentEnd(facts, last);
    if (target && target.lsn > latest) {
      throw new PgkeepError(
        'NOT_FOUND',
        `the target ${formatLsn(target.lsn)} is past the latest reachable point, ${formatLsn(latest)} (${reach.lastRecordLsn ? `the start of ${ending}` : `the end of ${reach.lastSegment}${gap ? `; ${describeGap(gap)}` : ''}`})`,
        {
          hint: `${everything}; if the server has newer WAL, make it archive it (SELECT pg_switch_wal())`,
          details: { latest: formatLsn(latest) },
        },
      );
    }
  } else if (found && segmentOfLsn(found.lsn, facts.segmentSize) > last) {
    throw new PgkeepError(
      'NOT_FOUND',
      `backup ${b.id} cannot reach the ${describeEvent(found, time)}: the archive has a gap after ${reach.lastSegment}`,
      {
        hint: 'run "pgkeep wal check" to see the gap',
      },
    );
  }
  return reach;
}

async function statMtime(input: PitrPlanInput, name: string): Promise<number> {
  for await (const o of input.repo.listObjects(name)) if (o.name === name) return o.mtimeMs;
  return Number.NaN;
}
