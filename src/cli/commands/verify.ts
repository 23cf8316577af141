/** `pgkeep verify <id|latest>`: read back and check every blob of a snapshot; exit 7 on damage. */
import type { Command } from 'commander';
import type { Runner } from '../context.js';
import { formatBytes } from '../output.js';
import { progressBar } from '../progress.js';
import { EXIT, PgkeepError, exitCodeOf } from '../../errors.js';
import { openRepository } from '../../repo/index.js';
import { passphraseGetter } from '../passphrase-prompt.js';
import { verifyBackup, type VerifyReport } from '../../backup/index.js';

export function renderVerify(r: VerifyReport): string {
  const lines = [
    `snapshot ${r.id} of cluster ${r.cluster} (${r.kind}): ${r.ok ? 'OK' : `DAMAGED (${r.problems.length} problem${r.problems.length === 1 ? '' : 's'})`}`,
    `  read ${r.files} entries, ${r.chunks} chunks, ${formatBytes(r.bytes)} in ${r.seconds.toFixed(1)} s`,
  ];
  if (r.manifestFilesChecked !== undefined) lines.push(`  ${r.manifestFilesChecked} files match the server's backup_manifest`);
  if (r.walSegmentsChecked !== undefined) lines.push(`  ${r.walSegmentsChecked} WAL segments of the standalone backup present`);
  const w = r.archivedWal;
  if (w)
    lines.push(
      `  archived WAL ${w.from}${w.to !== w.from ? `..${w.to}` : ''} (needed for consistency): ${w.ok} of ${w.segments} segment(s) read and checked`,
    );
  for (const p of r.problems.slice(0, 50)) lines.push(`  ${p.path}: ${p.problem}`);
  if (r.problems.length > 50) lines.push(`  ... and ${r.problems.length - 50} more (see --json)`);
  return lines.join('\n');
}

export function register(program: Command, runner: Runner): void {
  program
    .command('verify')
    .description("read back every blob of a snapshot and check it (checksums, sizes, the server's backup_manifest, the WAL it needs)")
    .argument(
      '<id>',
      'snapshot id (or the start of one); "latest" (the newest snapshot of any kind, as the last row of "pgkeep list"), "latest-physical" or "latest-logical"',
    )
    .option('--jobs <n>', 'files read in parallel')
    .addHelpText(
      'after',
      `
For a hot backup that is not standalone, the archived WAL from its start to its stop segment (what
it needs to become consistent) is read back too: checksum, decompression and every page header.
Exits with 0 when everything checks out and 7 (DATA_INTEGRITY) when anything is damaged or missing.

Examples:
  pgkeep verify latest
  pgkeep verify latest-physical       the newest physical backup, even when a dump is newer
  pgkeep --json verify 20250101T020000Z-1a2b`,
    )
    .action(
      runner.action<{ jobs?: string }>(async (ctx, opts, args) => {
        const jobs = opts.jobs === undefined ? undefined : Number(opts.jobs);
        if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1 || jobs > 64)) {
          throw new PgkeepError('USAGE', `--jobs must be a whole number from 1 to 64, not "${opts.jobs}"`);
        }
        const repo = await openRepository(ctx.config.repo, {
          getPassphrase: passphraseGetter(ctx.config.passphrase),
          ...(jobs ? { jobs } : {}),
        });
        const bar = progressBar(ctx, { label: 'verify' });
        let report: VerifyReport;
        try {
          report = await verifyBackup(repo, ctx.config.clusterName, args[0] ?? 'latest', {
            jobs,
            signal: ctx.signal,
            onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal),
          });
        } finally {
          bar.done();
          await repo.closeAll();
        }
        ctx.out.result(report, renderVerify);
        return report.ok ? EXIT.OK : exitCodeOf('DATA_INTEGRITY');
      }),
    );
}
