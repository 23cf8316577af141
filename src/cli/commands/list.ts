/** `pgkeep list`: the cluster's snapshots (physical backups and logical dumps), newest last. */
import type { Command } from 'commander';
import type { Runner } from '../context.js';
import { formatBytes, table } from '../output.js';
import { openRepository } from '../../repo/index.js';
import { passphraseGetter } from '../passphrase-prompt.js';
import { listBackupsReport, type BackupSummary, type DamagedSnapshot } from '../../backup/index.js';
import { ERROR_CODES, PgkeepError } from '../../errors.js';

const shortTime = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export function renderList(cluster: string, rows: BackupSummary[]): string {
  if (rows.length === 0) return `cluster ${cluster} has no snapshots yet (take one with "pgkeep backup" or "pgkeep dump")`;
  return (
    table(
      ['id', 'kind', 'method', 'start', 'stop', 'start lsn', 'stop lsn', 'tli', 'size', 'stored', 'standalone'],
      rows.map((r) => [
        r.id,
        r.kind,
        r.method,
        shortTime(r.startTime),
        shortTime(r.stopTime),
        r.startLsn,
        r.stopLsn,
        r.timeline,
        formatBytes(r.size),
        formatBytes(r.storedBytes),
        r.kind === 'physical' ? (r.standalone ? 'yes' : 'no') : '',
      ]),
    ) +
    `\n(${rows.length} snapshot${rows.length === 1 ? '' : 's'}; "stored" is what each added to the repository; "latest" is the last row)`
  );
}

export function register(program: Command, runner: Runner): void {
  program
    .command('list')
    .description('list the snapshots of the cluster (backups and dumps), oldest first')
    .addHelpText(
      'after',
      `
Examples:
  pgkeep list
  pgkeep --cluster main --repo /backups list
  pgkeep --json list`,
    )
    .action(
      runner.action(async (ctx) => {
        const repo = await openRepository(ctx.config.repo, { getPassphrase: passphraseGetter(ctx.config.passphrase) });
        let listed: { rows: BackupSummary[]; damaged: DamagedSnapshot[] };
        try {
          listed = await listBackupsReport(repo, ctx.config.clusterName);
        } finally {
          await repo.closeAll();
        }
        const { rows, damaged } = listed;
        ctx.out.result(ctx.out.json ? { cluster: ctx.config.clusterName, snapshots: rows, damaged } : rows, () =>
          [renderList(ctx.config.clusterName, rows), ...damaged.map((d) => `DAMAGED ${d.id}: ${d.message}`)].join('\n'),
        );
        if (damaged.length === 0) return;
        if (ctx.out.json) return ERROR_CODES.DATA_INTEGRITY;
        throw new PgkeepError(
          'DATA_INTEGRITY',
          `${damaged.length} snapshot manifest(s) of cluster ${ctx.config.clusterName} are damaged: ${damaged.map((d) => d.id).join(', ')}`,
          {
            hint: 'those snapshots cannot be restored; run "pgkeep repo check" for the details, and take a new backup',
          },
        );
      }),
    );
}
