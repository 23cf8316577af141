/**
 * `pgkeep restore-table`: one table brought back as it was at a moment, next to the live one.
 *
 *   check (names, time, live database, new name free, tools) -> choose backup (newest that
 *   ended before the time; the archive must reach it) -> restore sandbox (temp dir) -> recover
 *   (to the time, then promote; archiving off) -> prepare (rename the table and its objects in
 *   the sandbox) -> dump (pg_dump -t) -> load (pg_restore, one transaction) -> verify (row
 *   count) -> drop sandbox (always, unless kept)
 *
 * Nothing touches the live database before "load", and "load" only creates the new table.
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { PgkeepError } from '../../errors.js';
import { resolveConnection, withClient } from '../../pg/connect.js';
import { planPitr, parseTargetTime, serverBinariesFor, type PitrPlan, type PitrRequest, type RecoveryEnd } from '../../restore/index.js';
import { displayQualified, quoteQualified } from '../identifiers.js';
import { wrapServerError } from '../server-error.js';
import { backupFacts } from './backup-facts.js';
import { checkLive, findDumpTools, type DumpTools } from './check-live.js';
import { createMissingStatistics, dumpTable, loadTable } from './dump-load.js';
import { resolveTableNames } from './names.js';
import { prepareInSandbox, type Prepared } from './prepare.js';
import { createSandbox, dropSandbox, recoverSandbox, restoreSandbox, startCommand, type Sandbox } from './sandbox.js';
import type { RestoreTableEvent, RestoreTableOptions, RestoreTableResult, RestoreTableStep, StepTiming } from './types.js';

export type {
  RestoreTableOptions,
  RestoreTableResult,
  RestoreTableEvent,
  RestoreTableStep,
  StepTiming,
  RenamedObject,
} from './types.js';
export { resolveTableNames, planRenames, type TableNames } from './names.js';
export { SANDBOX_SETTINGS } from './sandbox.js';

export async function restoreTable(o: RestoreTableOptions): Promise<RestoreTableResult> {
  const t0 = Date.now();
  const steps: StepTiming[] = [];
  const warnings: string[] = [];
  const emit = (e: RestoreTableEvent) => o.onProgress?.(e);
  const step = async <T>(name: RestoreTableStep, fn: () => Promise<T>, detail?: (r: T) => string | undefined): Promise<T> => {
    if (name !== 'drop-sandbox') o.signal?.throwIfAborted();
    const s0 = Date.now();
    emit({ step: name, state: 'start' });
    try {
      const r = await fn();
      const seconds = (Date.now() - s0) / 1000;
      const d = detail?.(r);
      steps.push({ step: name, seconds, ...(d ? { detail: d } : {}) });
      emit({ step: name, state: 'done', seconds, ...(d ? { detail: d } : {}) });
      return r;
    } catch (e) {
      emit({ step: name, state: 'failed', seconds: (Date.now() - s0) / 1000, detail: (e as Error)?.message });
      throw e;
    }
  };

  // Step: check — nothing is refused later that could be refused now.
  const { names, time, live, tools } = await step(
    'check',
    async () => {
      const names = resolveTableNames(o.table, o.as);
      const time = parseTargetTime(o.asOf);
      if (time.micros > BigInt(Date.now()) * 1000n) {
        throw new PgkeepError('USAGE', `--as-of ${time.iso} is in the future`, {
          hint: "give a past moment (it is read in this machine's time zone when it has none)",
        });
      }
      const live = await checkLive(o.cluster, names, o.database, o.signal, { noOwner: o.noOwner });
      const tools = await findDumpTools(live.major, o.cluster.pgBin);
      return { names, time, live, tools };
    },
    (r) =>
      `${displayQualified(r.names.source)} in database ${r.live.database} as of ${r.time.text}, into ${displayQualified(r.names.target)}`,
  );

  // Step: choose the backup (and check the archive reaches the time).
  const request: PitrRequest = { target: { kind: 'time', time }, action: 'promote', timeline: 'latest', exclusive: false };
  const plan: PitrPlan = await step(
    'choose-backup',
    () => planPitr({ repo: o.repo, cluster: o.clusterName, request, signal: o.signal }),
    (p) => p.reason,
  );
  warnings.push(...plan.warnings);
  const backup = await backupFacts(o.repo, o.clusterName, plan.snapshotId);
  if (backup.major !== live.major) {
    warnings.push(
      `the backup is of PostgreSQL ${backup.major} and the live server is ${live.major}: the table's definition may need changes to load`,
    );
  }
  const sandboxTools: DumpTools = backup.major > tools.pgDump.major ? await findDumpTools(backup.major, o.cluster.pgBin) : tools;
  // the sandbox runs the backup's major: its server binaries are found before anything is restored
  const sandboxBin = await serverBinariesFor(backup.major, o.cluster.pgBin, "restore-table's sandbox");
  const where = `backup ${plan.snapshotId} recovered to ${time.text}`;

  const sb: Sandbox = await createSandbox(o.sandboxParent, sandboxBin.binDir);
  const keep = Boolean(o.keepSandbox);
  let cleaning = false;
  try {
    // Step: restore the backup into the sandbox.
    const restored = await step(
      'restore-sandbox',
      () =>
        restoreSandbox(sb, {
          repo: o.repo,
          clusterName: o.clusterName,
          snapshotId: plan.snapshotId,
          access: o.access,
          recoverySettings: plan.settings,
          signal: o.signal,
          onBytes: (bytesDone, bytesTotal) => emit({ step: 'restore-sandbox', state: 'progress', bytesDone, bytesTotal }),
        }),
      (r) => `snapshot ${r.snapshotId} into ${r.dataDir}`,
    );
    warnings.push(...restored.warnings);

    // Step: recover to the time and promote.
    const end: RecoveryEnd = await step(
      'recover',
      () => recoverSandbox(sb, live.bootstrapSuperuser, where, o.signal),
      (e) => e.stoppedAt ?? (e.lastTransactionTime ? `last transaction at ${e.lastTransactionTime}` : undefined),
    );

    // Step: rename the table and its objects in the sandbox.
    const prepared: Prepared = await step(
      'prepare',
      () =>
        prepareInSandbox({
          sandbox: sb.cluster!,
          database: live.database,
          names,
          where,
          liveNames: (catalog, schema) => liveNames(o, live.database, catalog, schema),
        }),
      (p) => `${p.rows} rows; ${p.renamed.length - 1} dependent object(s) renamed${p.left.length ? `; ${p.left.join('; ')}` : ''}`,
    );

    // Step: dump the table from the sandbox.
    // The archive holds the table's data: a directory only this OS user may enter.
    const file = join(await mkdtemp(join(sb.dir, 'dump-')), 'table.dump');
    await step(
      'dump',
      () => dumpTable(sandboxTools.pgDump, sb.cluster!, live.database, names.target, file, o.signal),
      (bytes) => `${(bytes / 1048576).toFixed(1)} MiB archive (pg_dump ${sandboxTools.pgDump.version})`,
    );

    // Step: load it into the live database (one transaction).
    const params = resolveConnection(o.cluster, { database: live.database });
    await step(
      'load',
      async () => {
        await loadTable(sandboxTools.pgRestore, params, file, {
          noOwner: o.noOwner,
          signal: o.signal,
          onStep: (text) => emit({ step: 'load', state: 'progress', detail: text }),
        });
        return createMissingStatistics(o.cluster, live.database, prepared.statistics, o.signal);
      },
      (stats) =>
        `into ${displayQualified(names.target)} in database ${live.database}${stats.length ? ` (and statistics ${stats.join(', ')})` : ''}`,
    );

    // Step: verify the rows arrived.
    const rows = await step(
      'verify',
      () => verifyRows(o, live.database, names.target, prepared.rows),
      (n) => `${n} rows`,
    );

    const result: RestoreTableResult = {
      database: live.database,
      table: displayQualified(names.source),
      restoredAs: displayQualified(names.target),
      asOf: time.iso,
      asOfZone: time.zone,
      backup: { id: plan.snapshotId, method: backup.method, stopTime: plan.backupEnd.time, reason: plan.reason },
      ...(end.stoppedAt ? { recoveryStop: end.stoppedAt } : {}),
      ...(end.lastTransactionTime ? { lastReplayedTransaction: end.lastTransactionTime } : {}),
      rows,
      renamed: prepared.renamed,
      left: prepared.left,
      steps,
      seconds: 0,
      ...(keep ? { sandbox: { dir: sb.dir, dataDir: sb.dataDir, logFile: sb.cluster!.logFile, startCommand: startCommand(sb) } } : {}),
      warnings,
    };
    if (!live.originalExists)
      warnings.push(
        `${displayQualified(names.source)} does not exist in the live database now; the restored copy is ${displayQualified(names.target)}`,
      );
    // Step: drop the sandbox (on failure: below).
    cleaning = true;
    const problems = await step(
      'drop-sandbox',
      () => dropSandbox(sb, keep),
      () => (keep ? `kept in ${sb.dir} (stopped)` : undefined),
    );
    for (const p of problems) warnings.push(`the table was restored, but the sandbox was not cleaned up: ${p}`);
    result.seconds = (Date.now() - t0) / 1000;
    return result;
  } catch (e) {
    // The sandbox goes even on failure (unless asked to keep it).
    if (!cleaning) {
      const problems = await dropSandbox(sb, keep);
      if (e instanceof PgkeepError && (keep || problems.length)) {
        const note = keep
          ? ` (the sandbox is kept, stopped, in ${sb.dir})`
          : ` (and the sandbox ${sb.dir} could not be removed: ${problems.join('; ')})`;
        throw new PgkeepError(e.code, e.message + note, { hint: e.hint, details: { ...(e.details ?? {}), sandbox: sb.dir }, cause: e });
      }
    }
    throw e;
  }
}

async function liveNames(
  o: RestoreTableOptions,
  database: string,
  catalog: 'relation' | 'statistics',
  schema: string,
): Promise<Set<string>> {
  const sql =
    catalog === 'relation'
      ? 'select c.relname as n from pg_class c join pg_namespace s on s.oid = c.relnamespace where s.nspname = $1'
      : 'select x.stxname as n from pg_statistic_ext x join pg_namespace s on s.oid = x.stxnamespace where s.nspname = $1';
  return withClient(
    o.cluster,
    { database, signal: o.signal },
    async (c) => new Set((await c.query(sql, [schema])).rows.map((r) => String(r.n))),
  );
}

async function verifyRows(
  o: RestoreTableOptions,
  database: string,
  table: { schema: string; name: string },
  expected: number,
): Promise<number> {
  const n = await withClient(o.cluster, { database, signal: o.signal }, async (c) => {
    try {
      return Number((await c.query(`select count(*)::text as n from only ${quoteQualified(table)}`)).rows[0].n);
    } catch (e) {
      throw wrapServerError(e, `counting the rows of ${displayQualified(table)}`);
    }
  });
  if (n !== expected) {
    throw new PgkeepError(
      'DATA_INTEGRITY',
      `${displayQualified(table)} has ${n} rows in the live database, but ${expected} at the target time in the sandbox`,
      {
        hint: 'something wrote to the new table meanwhile, or the load was incomplete: check it before relying on it',
      },
    );
  }
  return n;
}
