/**
 * `pgkeep backup`: a physical backup of the whole cluster (stream, local or cold) into the
 * repository, incremental to the previous one.
 */
import { Option, type Command } from 'commander';
import type { Runner } from '../context.js';
import { formatBytes } from '../output.js';
import { progressBar } from '../progress.js';
import { PgkeepError } from '../../errors.js';
import { openRepository } from '../../repo/index.js';
import { parseDuration } from '../../config/duration.js';
import { passphraseGetter } from '../passphrase-prompt.js';
import { backup, BACKUP_METHODS, type BackupMethod, type BackupResult } from '../../backup/index.js';
import { checkBackupLabel } from '../../backup/label.js';
import { CHECKPOINT_MODES, type CheckpointMode } from '../../config/checkpoint-mode.js';

interface BackupFlags {
  method: string;
  standalone?: boolean;
  label?: string;
  jobs?: string;
  checksumAll?: boolean;
  walSummaries?: boolean;
  ignoreChecksumErrors?: boolean;
  archiveTimeout?: string;
  checkpoint?: CheckpointMode;
}

const PHASE_TEXT: Record<string, string> = {
  connecting: 'connecting',
  starting: 'starting (checkpoint)',
  copying: 'copying',
  stopping: 'stopping',
  wal: 'storing WAL',
  verifying: 'verifying',
  publishing: 'publishing',
};

export function renderBackup(r: BackupResult): string {
  const rate = `${formatBytes(Math.round(r.bytesPerSecond))}/s`;
  const lines = [
    `backup ${r.snapshotId} of cluster ${r.cluster} stored (${r.method}${r.standalone && r.method !== 'cold' ? ', standalone' : ''}, PostgreSQL ${r.serverVersion}, system ${r.systemIdentifier})`,
    `  files:     ${r.files} (${formatBytes(r.logicalBytes)})${r.reusedFiles ? `, ${r.reusedFiles} unchanged files reused without reading` : ''}`,
    `  stored:    ${formatBytes(r.storedBytes)} new${r.reusedBytes ? `, ${formatBytes(r.reusedBytes)} reused from ${r.incrementalFrom ?? 'the previous backup'}` : ''}`,
    `  WAL:       ${r.method === 'cold' ? `none needed (checkpoint ${r.startLsn}, timeline ${r.timeline})` : `${r.startLsn} .. ${r.stopLsn} on timeline ${r.timeline} (${r.walStart} .. ${r.walEnd})`}` +
      (r.walSegments ? `, ${r.walSegments} segment(s) stored with the backup` : ''),
    `  duration:  ${r.seconds.toFixed(1)} s (${rate})`,
  ];
  if (r.pagesChecked)
    lines.push(
      `  checksums: ${r.pagesChecked} pages verified${r.checksumFailures.length ? `, ${r.checksumFailures.length} FAILED (ignored)` : ''}`,
    );
  if (r.incrementalRead && parseInt(r.serverVersion, 10) >= 17) lines.push(`  read:      ${describeRead(r)}`);
  if (r.manifestFilesChecked !== undefined) lines.push(`  manifest:  ${r.manifestFilesChecked} files match the server's backup_manifest`);
  if (r.vanishedFiles)
    lines.push(`  ${r.vanishedFiles} file(s) vanished or shrank while being read (normal on a running server; WAL replay covers them)`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

function describeRead(r: BackupResult): string {
  const i = r.incrementalRead!;
  const bytes = r.bytesRead !== undefined ? `${formatBytes(r.bytesRead)} read; ` : '';
  return i.method === 'full-read'
    ? `${bytes}every file (${i.reason})`
    : `${bytes}WAL summaries ${i.from}..${i.to}: ${i.skippedFiles} of ${i.files} files skipped, ${i.patchedFiles} read only where blocks changed`;
}

export function register(program: Command, runner: Runner): void {
  program
    .command('backup')
    .description(
      'physical backup of the whole cluster into the repository (hot over the replication protocol or from the data directory, or cold)',
    )
    .addOption(
      new Option('--method <method>', 'stream (replication protocol, works remotely), local (on the database host), cold (server stopped)')
        .choices(BACKUP_METHODS as string[])
        .default('stream'),
    )
    .option('--standalone', 'store the WAL from backup start to end with the backup, so it restores with no WAL archive')
    .option('--label <text>', 'label written into backup_label (one line, at most 1024 bytes)')
    .option('--jobs <n>', 'parallel readers and compression workers (default: the number of CPUs, at most 8)')
    .option('--checksum-all', 'read every file, even those whose size and mtime did not change since the previous backup')
    .option(
      '--no-wal-summaries',
      'PostgreSQL 17+, --method local: read every file instead of skipping what the WAL summaries show unchanged',
    )
    .option('--ignore-checksum-errors', 'report pages with a wrong checksum as warnings instead of failing the backup')
    .option(
      '--archive-timeout <duration>',
      "longest wait for the server to archive the backup's last WAL segment (default [backup] archive_timeout or 60s)",
    )
    .addOption(
      new Option(
        '--checkpoint <mode>',
        'checkpoint a hot backup starts from: fast (immediate, the default: the backup starts now) ' +
          "or spread (spares a busy primary's I/O, starts up to checkpoint_completion_target x checkpoint_timeout later); default [backup] checkpoint",
      ).choices(CHECKPOINT_MODES),
    )
    .addHelpText(
      'after',
      `
Every backup is incremental to the previous one of the cluster (chunks that did not change are
not stored again) and complete on its own (restore never needs an older backup).
A hot backup (stream, local) needs the WAL written while it ran: either the WAL archive
("pgkeep wal ...") or --standalone. A cold backup needs the server cleanly stopped.
At its end a hot backup waits until the server has archived its last WAL segment; it fails
(exit 5, nothing stored) as soon as pg_stat_archiver shows archive_command failing, or after
--archive-timeout, with the archiver's error.
A hot backup starts from a checkpoint. pgkeep asks for a fast (immediate) one by default, as
backups are usually taken on demand or by a schedule, where starting now matters; --checkpoint
spread lets the server spread its writes as for a regular checkpoint, which spares the I/O of a
busy primary but can delay the start by minutes (like pg_basebackup -c fast|spread).

Examples:
  pgkeep backup                                   hot backup over a replication connection
  pgkeep backup --standalone                      ... carrying its own WAL
  pgkeep backup --method local --jobs 4           on the database host, 4 parallel readers
  pgkeep backup --method cold                     server stopped (pg_ctl stop -m fast first)
  pgkeep --json backup --label nightly`,
    )
    .action(
      runner.action<BackupFlags>(async (ctx, opts) => {
        const jobs = opts.jobs === undefined ? undefined : Number(opts.jobs);
        if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1 || jobs > 64)) {
          throw new PgkeepError('USAGE', `--jobs must be a whole number from 1 to 64, not "${opts.jobs}"`);
        }
        const archiveTimeoutMs =
          opts.archiveTimeout === undefined ? ctx.config.backup.archiveTimeoutMs : parseDuration(opts.archiveTimeout, '--archive-timeout');
        if (opts.label !== undefined) checkBackupLabel(opts.label);
        if (opts.checkpoint !== undefined && opts.method === 'cold') {
          throw new PgkeepError(
            'USAGE',
            '--checkpoint applies to hot backups (--method stream or local); a cold backup starts from the shutdown checkpoint',
          );
        }
        const checkpoint = opts.checkpoint ?? ctx.config.backup.checkpoint;
        const repo = await openRepository(ctx.config.repo, {
          getPassphrase: passphraseGetter(ctx.config.passphrase),
          ...(jobs ? { jobs } : {}),
        });
        const bar = progressBar(ctx, { label: 'backup' });
        let result: BackupResult;
        try {
          result = await backup({
            repo,
            clusterName: ctx.config.clusterName,
            cluster: ctx.config.cluster,
            method: opts.method as BackupMethod,
            standalone: opts.standalone,
            label: opts.label,
            jobs,
            checksumAll: opts.checksumAll,
            ...(opts.walSummaries === false ? { walSummaries: false } : {}),
            ignoreChecksumErrors: opts.ignoreChecksumErrors,
            ...(archiveTimeoutMs !== undefined ? { archiveTimeoutMs } : {}),
            ...(checkpoint !== undefined ? { checkpoint } : {}),
            signal: ctx.signal,
            onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal, PHASE_TEXT[p.phase] ?? p.phase),
            onWarning: (m) => {
              if (!ctx.out.json) ctx.log.warn(m);
            },
            onNote: (m) => {
              if (!ctx.out.json) ctx.log.info(m);
            },
          });
        } finally {
          bar.done();
          await repo.closeAll();
        }
        ctx.out.result(result, renderBackup);
      }),
    );
}
