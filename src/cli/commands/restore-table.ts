/**
 * `pgkeep restore-table --table T --as-of TIME`: one table as it was at a moment, restored next
 * to the live one from a physical backup and the WAL archive, through a throwaway sandbox.
 */
import type { Command } from 'commander';
import type { CommandContext, Runner } from '../context.js';
import { progressBar } from '../progress.js';
import { resolveTableNames, restoreTable, type RestoreTableEvent, type RestoreTableResult } from '../../logical/restore-table/index.js';
import { parseTargetTime } from '../../restore/pitr/index.js';
import { openRepo } from './dump.js';
import { repositoryAccess } from '../restore-access.js';

interface RestoreTableFlags {
  table: string;
  asOf: string;
  database?: string;
  as?: string;
  /** commander turns --no-owner into owner: false. */
  owner?: boolean;
  keepSandbox?: boolean;
  sandboxDir?: string;
}

export function renderRestoreTable(r: RestoreTableResult): string {
  const lines = [
    `restored ${r.table} as of ${r.asOf} into ${r.restoredAs} (database ${r.database}): ${r.rows} rows, in ${r.seconds.toFixed(1)} s`,
    `from backup ${r.backup.id} (${r.backup.method}, ended ${r.backup.stopTime}) and the WAL archive`,
  ];
  if (r.recoveryStop) lines.push(`recovery: ${r.recoveryStop}`);
  else if (r.lastReplayedTransaction) lines.push(`recovery: last transaction replayed at ${r.lastReplayedTransaction}`);
  const renamed = r.renamed.filter((x) => x.kind !== 'table');
  if (renamed.length) {
    lines.push('renamed with the table:');
    for (const x of renamed) lines.push(`  ${x.kind} ${x.from} -> ${x.to}`);
  }
  for (const l of r.left) lines.push(`note: ${l}`);
  lines.push(`steps: ${r.steps.map((s) => `${s.step} ${s.seconds.toFixed(1)} s`).join(', ')}`);
  if (r.sandbox)
    lines.push(`sandbox kept (stopped) in ${r.sandbox.dir} (log: ${r.sandbox.logFile}); start it with: ${r.sandbox.startCommand}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

/** One stderr line per finished step; a byte bar while the sandbox is restored. */
function stepReporter(ctx: CommandContext): { on(e: RestoreTableEvent): void; done(): void } {
  const bar = progressBar(ctx, { label: 'restore-sandbox' });
  return {
    on(e) {
      if (e.state === 'progress') {
        if (e.step === 'restore-sandbox' && e.bytesDone !== undefined) bar.update(e.bytesDone, e.bytesTotal);
        return;
      }
      if (e.step === 'restore-sandbox' && e.state !== 'start') bar.done();
      if (ctx.config.json || e.state === 'start') return;
      const took = e.seconds !== undefined ? ` (${e.seconds.toFixed(1)} s)` : '';
      ctx.log.info(`${e.step}${e.state === 'failed' ? ' failed' : ''}${took}${e.detail && e.state === 'done' ? `: ${e.detail}` : ''}`);
    },
    done: () => bar.done(),
  };
}

export function register(program: Command, runner: Runner): void {
  program
    .command('restore-table')
    .description(
      'bring back one table as it was at a moment, under a new name next to the live one (physical backup + WAL, through a sandbox)',
    )
    .requiredOption('--table <schema.name>', 'the table (an unqualified name means schema public; "Quoted" names keep their case)')
    .requiredOption(
      '--as-of <time>',
      'the moment: ISO 8601 or PostgreSQL\'s form, e.g. "2026-01-02 14:05:00+01" (no zone: this machine\'s)',
    )
    .option('--database <db>', "database of the table (default: the connection's)")
    .option('--as <name>', 'name of the restored copy: NAME (same schema) or SCHEMA.NAME (default: <name>_restored)')
    .option('--no-owner', 'do not set owners: the copy belongs to the connecting role')
    .option('--keep-sandbox', 'keep the sandbox cluster (stopped) for inspection instead of removing it')
    .option('--sandbox-dir <dir>', 'where the sandbox is created (default: the temp directory); it needs room for the whole cluster')
    .addHelpText(
      'after',
      `
How: the newest physical backup that ended before the time is restored into a sandbox (a temp
directory, no TCP port, WAL archiving off), recovered from the WAL archive to the time and
promoted; there the table is renamed (with its indexes, constraints, owned sequences and
statistics, so their names do not collide with the original's) and foreign keys to other
tables are dropped; pg_dump -t takes it out and pg_restore loads it into the live database in
one transaction. The original table is never touched; the new name must be free (--as the
table's own name works once it was dropped). Privileges on the live database are checked first,
and the backup's tablespaces are restored inside the sandbox directory.
The time must be covered by the archive: recovery stops at the first transaction that ended
after it, so WAL newer than the time must be archived (SELECT pg_switch_wal() helps).

Examples:
  pgkeep restore-table --table public.orders --as-of "2026-01-02 14:05:00+01"
  pgkeep restore-table --table sales.orders --as-of 2026-01-02T13:05:00Z --database shop --as orders_before_bug
  pgkeep restore-table --table orders --as-of "2026-01-02 14:05" --as archive.orders_0105 --no-owner --json`,
    )
    .action(
      runner.action<RestoreTableFlags>(async (ctx, opts) => {
        // Typos are reported before the repository is opened (the use case checks again).
        resolveTableNames(opts.table, opts.as);
        parseTargetTime(opts.asOf);
        const repo = await openRepo(ctx);
        const report = stepReporter(ctx);
        try {
          const result = await restoreTable({
            repo,
            clusterName: ctx.config.clusterName,
            cluster: ctx.config.cluster,
            access: repositoryAccess(ctx),
            table: opts.table,
            asOf: opts.asOf,
            database: opts.database,
            as: opts.as,
            noOwner: opts.owner === false,
            keepSandbox: opts.keepSandbox,
            sandboxParent: opts.sandboxDir,
            signal: ctx.signal,
            onProgress: (e) => report.on(e),
          });
          report.done();
          ctx.out.result(result, renderRestoreTable);
        } finally {
          report.done();
          await repo.closeAll();
        }
      }),
    );
}
