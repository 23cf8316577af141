/**
 * `pgkeep drill`: proof that the backups restore. A throwaway copy of the cluster is restored on
 * this host and recovered, and every step is timed, as a list of phases —
 *
 *   choose (target and backup; the plan checks the archive reaches it) -> restore (the backup's
 *   files into a private sandbox, refused without the disk for it) -> wal (start the copy;
 *   restore_command fetches the archived WAL and the server replays it to the target, then
 *   promotes; replay must reach what the plan found) -> start (the copy out of recovery and
 *   taking writes on its private socket) -> checks (connect, pg_amcheck, row counts, the user's
 *   SQL) -> drop the sandbox (always, unless --keep) -> write the record
 *
 * The sandbox never archives (archive_mode off) and listens on no TCP port. Every drill, passed
 * or failed, leaves its record in the repository (holdings/drill-records.ts); a failed drill's
 * record names the phase and the reason.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { PgkeepError } from '../errors.js';
import { newDrillId, writeDrillRecord, type DrillCheckRecord, type DrillRecord } from '../holdings/drill-records.js';
import { readPhysicalMeta } from '../holdings/read-physical-meta.js';
import { dropSandbox, recoverSandbox, restoreSandbox, type Sandbox } from '../logical/index.js';
import { readBootstrapSuperuser } from '../pg/bootstrap-superuser.js';
import { checkRecoveryReachedPlan, parseTargetTime, serverBinariesFor, type RecoveryEnd } from '../restore/index.js';
import { formatDuration } from '../config/duration.js';
import { humanBytes } from '../words.js';
import { runDrillChecks } from './checks.js';
import { chooseTarget, parseDrillTarget, type Chosen } from './choose.js';
import { DrillFailure, PhaseClock } from './phases.js';
import { createDrillSandbox, killLeftoverServer, sandboxNeed } from './sandbox.js';
import { parseCheckSql, type UserCheck } from './user-sql.js';
import type { DrillOptions } from './types.js';

export type { DrillOptions, DrillEvent } from './types.js';
export { parseDrillTarget, DEFAULT_RANDOM_DAYS } from './choose.js';
export { parseCheckSql } from './user-sql.js';
export { listDrillRecords, readDrillRecord, type DrillRecord } from '../holdings/drill-records.js';

/** A drill's bound without --max-duration ([drill] max_duration): as the agent's job_timeout. */
export const DEFAULT_MAX_DURATION_MS = 24 * 3_600_000;

/** Longest wait for an interrupted phase's own work to end before the sandbox is removed under it (within the CLI's DRILL_GRACE_MS). */
const SETTLE_MS = 20_000;

export interface DrillResult {
  record: DrillRecord;
  /** --keep: where the stopped sandbox is. */
  kept?: { dir: string; dataDir: string; logFile?: string };
  warnings: string[];
}

export async function drill(o: DrillOptions): Promise<DrillResult> {
  // Bad input is refused before the drill starts (and leaves no record).
  const spec = parseDrillTarget(o.target, o.randomDays);
  const userChecks: UserCheck[] = o.checkSql ? parseCheckSql(await readCheckFile(o.checkSql), o.checkSql) : [];

  const started = o.now?.() ?? new Date();
  const id = newDrillId(started, o.random);
  const emit = (e: Parameters<NonNullable<DrillOptions['onProgress']>>[0]) => o.onProgress?.(e);
  const stop = new AbortController();
  let timedOut = false;
  const maxDurationMs = o.maxDurationMs ?? DEFAULT_MAX_DURATION_MS;
  const timer = setTimeout(() => {
    timedOut = true;
    stop.abort(new Error('--max-duration'));
  }, maxDurationMs);
  const onAbort = () => stop.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const abortReason = () =>
    timedOut
      ? new PgkeepError('INTERRUPTED', `the drill ran longer than --max-duration ${formatDuration(maxDurationMs)} and was stopped`, {
          hint: 'raise --max-duration ([drill] max_duration), or find the slow phase in the record',
        })
      : new PgkeepError('INTERRUPTED', 'the drill was interrupted');
  const signal = stop.signal;
  const clock = new PhaseClock(started.getTime(), signal, abortReason, emit);

  let chosen: Chosen | undefined;
  let sb: Sandbox | undefined;
  let end: RecoveryEnd | undefined;
  let checks: DrillCheckRecord[] = [];
  let failure: DrillFailure | undefined;
  const warnings: string[] = [];
  try {
    chosen = await clock.run(
      'choose',
      () => chooseTarget({ repo: o.repo, cluster: o.cluster, spec, now: started, random: o.random ?? Math.random, signal }),
      (c) =>
        c.plan ? `${c.plan.reason}; target ${c.target.time ?? `the end of the archive (${c.target.lsn})`}` : `target ${c.target.kind}`,
    );
    if (chosen.walError) clock.fail('wal', chosen.walError);
    const plan = chosen.plan!;
    warnings.push(...plan.warnings);

    await clock.run(
      'restore',
      async () => {
        const m = await o.repo.readManifest(o.cluster, plan.snapshotId);
        const meta = readPhysicalMeta(m);
        const bin = await serverBinariesFor(Math.floor(meta.serverVersionNum / 10000), o.pgBin, "the drill's sandbox");
        sb = await createDrillSandbox(o.sandboxParent, sandboxNeed(m.stats.logicalBytes, plan, meta.walSegmentSize), bin.binDir);
        const box = sb;
        return restoreSandbox(box, {
          repo: o.repo,
          clusterName: o.cluster,
          snapshotId: plan.snapshotId,
          access: o.access,
          recoverySettings: plan.settings,
          signal,
          onBytes: (bytesDone, bytesTotal) => emit({ phase: 'restore', state: 'progress', bytesDone, bytesTotal }),
        });
      },
      (r) => `backup ${r.snapshotId}: ${r.stats.files} files, ${humanBytes(r.stats.bytes)} into ${r.dataDir}`,
    );
    const box = sb!;

    end = await clock.run(
      'wal',
      async () => {
        const e = await recoverSandbox(box, readBootstrapSuperuser(box.dataDir) ?? 'postgres', `backup ${plan.snapshotId}`, signal);
        checkRecoveryReachedPlan(plan, e, box.dataDir, box.cluster!.logFile);
        return e;
      },
      (e) =>
        [e.stoppedAt, e.redoDoneAt && `redo done at ${e.redoDoneAt}`, e.lastTransactionTime && `last transaction ${e.lastTransactionTime}`]
          .filter(Boolean)
          .join('; '),
    );

    await clock.run(
      'start',
      async () => {
        const [r] = await box.cluster!.query<{ rec: boolean; tli: number }>(
          'select pg_is_in_recovery() as rec, (select timeline_id from pg_control_checkpoint()) as tli, txid_current() is not null as w',
        );
        if (r!.rec) throw new PgkeepError('SERVER_NOT_READY', 'the restored copy is still in recovery after it promoted');
        return box.cluster!.socketDir;
      },
      (socket) => `read-write, on the unix socket in ${socket} only (no TCP, archive_mode off)`,
    );

    await clock.run(
      'checks',
      async () => {
        checks = await runDrillChecks(box.cluster!, userChecks, o.pgBin, signal);
        const bad = checks.filter((c) => !c.ok);
        if (bad.length) {
          throw new PgkeepError(
            'DATA_INTEGRITY',
            `check "${bad[0]!.name}" failed: ${bad[0]!.detail ?? ''}${bad.length > 1 ? ` (and ${bad.length - 1} more)` : ''}`,
            {
              details: { failed: bad },
            },
          );
        }
        return checks;
      },
      (cs) => `${cs.length} checks passed`,
    );
  } catch (e) {
    if (!(e instanceof DrillFailure)) throw e;
    failure = e;
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
    if (sb) {
      emit({ phase: 'cleanup', state: 'start' });
      // Interrupted: the phase's work (a server starting, a restore writing) ends before the sandbox goes.
      await clock.settled(SETTLE_MS);
      // A server the drill never got hold of (interrupted while it started) is stopped through its pid file.
      const killed = sb.cluster ? undefined : await killLeftoverServer(sb.dataDir);
      if (killed) warnings.push(killed);
      for (const p of await dropSandbox(sb, Boolean(o.keep))) warnings.push(`the sandbox was not cleaned up: ${p}`);
      emit({ phase: 'cleanup', state: 'done' });
    }
  }

  const record = buildRecord(id, o, started, clock, chosen, end, checks, failure);
  emit({ phase: 'record', state: 'start' });
  try {
    await writeDrillRecord(o.repo, record);
  } catch (e) {
    const err = e instanceof PgkeepError ? e : new PgkeepError('REPOSITORY', String(e));
    throw new PgkeepError(err.code, `the drill ${record.ok ? 'passed' : 'failed'}, but its record could not be stored: ${err.message}`, {
      hint: err.hint ?? 'check the repository and run the drill again',
      details: { record },
      cause: e,
    });
  }
  emit({ phase: 'record', state: 'done', detail: id });
  const kept = o.keep && sb ? { dir: sb.dir, dataDir: sb.dataDir, ...(sb.cluster ? { logFile: sb.cluster.logFile } : {}) } : undefined;
  return { record, ...(kept ? { kept } : {}), warnings };
}

async function readCheckFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new PgkeepError('USAGE', `cannot read --check-sql ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

const isoOf = (pgTime: string | undefined): string | undefined => {
  if (!pgTime) return undefined;
  try {
    return parseTargetTime(pgTime).iso;
  } catch {
    return undefined;
  }
};

function buildRecord(
  id: string,
  o: DrillOptions,
  started: Date,
  clock: PhaseClock,
  chosen: Chosen | undefined,
  end: RecoveryEnd | undefined,
  checks: DrillCheckRecord[],
  failure: DrillFailure | undefined,
): DrillRecord {
  // RPO: the newest archived commit minus the newest commit the copy holds. To the end of the
  // archive, with replay checked to have reached it, the copy holds the newest one.
  const recovered = isoOf(end?.lastTransactionTime);
  const newest = chosen?.target.kind === 'latest' && end ? recovered : chosen?.newestCommit;
  const rpo = recovered && newest ? Math.max(0, (Date.parse(newest) - Date.parse(recovered)) / 1000) : undefined;
  return {
    format: 1,
    id,
    cluster: o.cluster,
    startedAt: started.toISOString(),
    finishedAt: new Date(clock.endedAt).toISOString(),
    ok: !failure,
    ...(failure ? { failedPhase: failure.phase, error: failure.error.message, errorCode: failure.error.code } : {}),
    ...(failure?.error.hint ? { hint: failure.error.hint } : {}),
    ...(chosen?.plan ? { backupId: chosen.plan.snapshotId } : {}),
    target: chosen?.target ?? { kind: o.target === 'random' ? 'random' : o.target && o.target !== 'latest' ? 'time' : 'latest' },
    rtoSeconds: clock.rtoSeconds,
    ...(rpo !== undefined && !failure ? { rpoSeconds: rpo } : {}),
    ...(newest ? { newestArchivedCommit: newest } : {}),
    ...(recovered ? { recoveredCommit: recovered } : {}),
    phases: clock.phases,
    checks,
    host: hostname(),
    pgkeepVersion: o.pgkeepVersion,
  };
}
