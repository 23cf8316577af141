/**
 * Step "decide what to read" of a local backup: on PostgreSQL 17+ with summarize_wal, the WAL
 * summaries since the previous backup (wal-summaries.ts) say per file what can be skipped
 * (unchanged-files.ts); otherwise every file is read as before. Either way the choice is
 * reported: a note (17+) "incremental from WAL summaries: N of M files skipped" or "full read: <reason>",
 * and the result's `incrementalRead`.
 */
import type pg from 'pg';
import { sessionLostError, type SessionWatch } from '../pg/session-lost.js';
import type { CopyFilesOptions } from './copy-files.js';
import type { SqlServerFacts } from './server-facts.js';
import type { BackupRun, CopyReport, IncrementalRead, StartInfo } from './types.js';
import { planFile } from './unchanged-files.js';
import { walChangesSincePrevious, type WalChangesPlan } from './wal-summaries.js';

export async function walChangesForBackup(
  client: pg.Client,
  run: BackupRun,
  facts: SqlServerFacts,
  start: StartInfo,
  session?: SessionWatch,
): Promise<WalChangesPlan> {
  const o = run.options;
  try {
    return await walChangesSincePrevious(client, {
      major: facts.major,
      previous: run.previous,
      start,
      chunkSize: o.repo.chunkSize,
      blockSize: facts.blockSize,
      enabled: o.walSummaries !== false && !o.checksumAll,
      disabledBecause: o.checksumAll ? '--checksum-all reads every file' : 'WAL summaries disabled (--no-wal-summaries)',
      signal: o.signal,
    });
  } catch (e) {
    if (o.signal?.aborted) throw e;
    const lost = sessionLostError(
      e,
      session,
      'reading the WAL summaries',
      "the backup's session",
      'the backup ended with it and nothing was published',
    );
    if (lost) throw lost;
    // never a reason to fail the backup: read everything instead
    const denied = (e as { code?: string }).code === '42501';
    return {
      use: false,
      reason: `cannot read the WAL summaries (${(e as Error).message})${
        denied
          ? '; GRANT EXECUTE ON FUNCTION pg_available_wal_summaries(), pg_wal_summary_contents(bigint, pg_lsn, pg_lsn), pg_get_wal_summarizer_state() to the backup role'
          : ''
      }`,
    };
  }
}

/** The copy options that apply the plan (none for a full read). */
export function planOptions(plan: WalChangesPlan, run: BackupRun, facts: SqlServerFacts): Pick<CopyFilesOptions, 'plan' | 'chunkSize'> {
  if (!plan.use) return {};
  const geometry = { chunkSize: run.options.repo.chunkSize, blockSize: facts.blockSize, segmentBlocks: facts.segmentBlocks };
  return {
    plan: async (f) => planFile(f.path, f.size, await run.writer.previousFile(f.path), plan.changes, geometry),
    chunkSize: geometry.chunkSize,
  };
}

/** What the copy did, for the result and the log. */
export function reportIncrementalRead(
  plan: WalChangesPlan,
  copy: CopyReport,
  fileCount: number,
  run: BackupRun,
  major: number,
): IncrementalRead {
  if (!plan.use) {
    if (major >= 17) run.options.onNote?.(`full read: ${plan.reason}`); // before 17 there is no choice to report
    return { method: 'full-read', reason: plan.reason };
  }
  const skipped = copy.skippedBySummaries ?? 0;
  const patched = copy.patchedBySummaries ?? 0;
  run.options.onNote?.(
    `incremental from WAL summaries ${plan.changes.from}..${plan.changes.to}: ${skipped} of ${fileCount} files skipped` +
      (patched ? `, ${patched} read only where blocks changed` : ''),
  );
  return {
    method: 'wal-summaries',
    from: plan.changes.from,
    to: plan.changes.to,
    files: fileCount,
    skippedFiles: skipped,
    patchedFiles: patched,
  };
}
