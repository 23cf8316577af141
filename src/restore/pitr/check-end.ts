/**
 * After a restore to the latest point was started (--start): did recovery replay all the WAL the
 * plan found reachable? A segment that is listed but unreadable to the server, damaged in the
 * middle, or a restore_command that fails as "not found" makes PostgreSQL end recovery early and
 * promote all the same: that is not a successful restore, and it is not reported as one.
 */
import { PgkeepError } from '../../errors.js';
import { parseLsn } from '../../pg/lsn.js';
import type { PitrPlan, RecoveryEnd } from './types.js';

/** Throws DATA_INTEGRITY when recovery promoted before the end of the WAL the plan reached. */
export function checkRecoveryReachedPlan(plan: PitrPlan, end: RecoveryEnd, dataDir: string, logFile: string): void {
  const want = plan.wal.upTo;
  if (plan.target || end.state !== 'promoted' || want.what !== 'record') return;
  // pg_last_wal_replay_lsn() is the end of the last record replayed: past the start of the last one planned when it was replayed.
  const replayed = end.replayLsn ?? end.redoDoneAt;
  if (replayed === undefined) return;
  const reached = end.replayLsn ? parseLsn(replayed) > parseLsn(want.lsn) : parseLsn(replayed) >= parseLsn(want.lsn);
  if (reached) return;
  throw new PgkeepError(
    'DATA_INTEGRITY',
    `recovery of ${dataDir} ended at ${replayed} and promoted, before the end of the archived WAL it was planned to reach ` +
      `(the record at ${want.lsn}, in ${want.segment}): the restored cluster lacks what was committed after ${replayed}`,
    {
      hint:
        `the server log (${logFile}) says why replay stopped (an unreadable or damaged segment, restore_command failing); ` +
        'run "pgkeep wal check" and "pgkeep verify", fix the archive, and restore again; the server is running, on a new timeline, with the data up to that point',
      details: { replayed, planned: want.lsn, segment: want.segment, logFile },
    },
  );
}
