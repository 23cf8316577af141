/**
 * The internal commands of the prefetch spool behind `wal get --prefetch`: `wal prefetch` (the
 * detached process a get starts) and `wal spool-clean` (recovery_end_command of a prefetching
 * recovery: stop the prefetcher, remove the spool).
 */
import type { Command } from 'commander';
import type { CommandContext, Runner } from '../context.js';
import type { PrefetchLaunch } from '../../wal/restore-command.js';
import { walGroup, openRepo } from './wal.js';
import { selfArgv } from '../self-argv.js';

/** The command line of the detached `pgkeep wal prefetch` that fills the spool: this pgkeep, with this run's settings. */
export function prefetchArgv(ctx: CommandContext, p: PrefetchLaunch): string[] {
  return selfArgv(
    ctx,
    'wal',
    'prefetch',
    String(p.count),
    '--spool-dir',
    p.spoolDir,
    '--system-id',
    p.systemIdentifier,
    '--segment-size',
    String(p.segmentSize),
    '--max-bytes',
    String(p.maxBytes),
  );
}

export function register(program: Command, runner: Runner): void {
  const wal = walGroup(program);
  wal
    .command('prefetch', { hidden: true })
    .description('(internal) keep the next segments after the last one served in the spool, for "wal get --prefetch"')
    .argument('<count>', 'number of segments')
    .requiredOption('--spool-dir <dir>', 'spool directory')
    .requiredOption('--system-id <id>', 'system identifier')
    .requiredOption('--segment-size <bytes>', 'WAL segment size')
    .requiredOption('--max-bytes <bytes>', 'most bytes the spool holds')
    .option('--from <segment>', 'fetch from this segment on before recovery asks for anything (started by restore)')
    .action(
      runner.action<{ spoolDir: string; systemId: string; segmentSize: string; maxBytes: string; from?: string }>(
        async (ctx, opts, args) => {
          const { runPrefetch } = await import('../../wal/prefetch.js');
          const repo = await openRepo(ctx);
          try {
            const r = await runPrefetch(repo, {
              cluster: ctx.config.clusterName,
              systemIdentifier: opts.systemId,
              count: Number(args[0]),
              segmentSize: Number(opts.segmentSize),
              maxBytes: Number(opts.maxBytes),
              spoolDir: opts.spoolDir,
              ...(opts.from ? { first: opts.from } : {}),
              signal: ctx.signal,
              repoLocation: ctx.config.repo.path,
            });
            ctx.log.info(
              `prefetcher ${process.pid}: ${r.fetched.length} segment(s) fetched, stopped (${r.stop})` +
                `${r.missing.length ? `; not archived (yet): ${r.missing.join(', ')}` : ''}${r.diskFull ? `; ${r.diskFull} write(s) refused for lack of space` : ''}`,
            );
          } finally {
            await repo.closeAll();
          }
        },
      ),
    );
  wal
    .command('spool-clean', { hidden: true })
    .description('(internal) stop the prefetcher and remove the prefetch spool: recovery_end_command of a prefetching recovery')
    .option('--spool-dir <dir>', 'spool root (default <data dir>/pg_wal/pgkeep-spool)')
    .action(
      runner.action<{ spoolDir?: string }>(async (ctx, opts) => {
        const [{ cleanSpoolRoot }, { recoveryDataDir, restoreSpoolRoot }] = await Promise.all([
          import('../../wal/spool-clean.js'),
          import('../../wal/restore-command.js'),
        ]);
        const root = restoreSpoolRoot({
          prefetch: 1,
          dataDir: recoveryDataDir(process.cwd(), ctx.config.cluster.pgdata),
          spoolRoot: opts.spoolDir,
        });
        if (!root) return;
        const r = await cleanSpoolRoot(root);
        ctx.log.debug(
          r.removed
            ? `removed ${root}${r.stopped.length ? `; stopped prefetcher(s) ${r.stopped.join(', ')}` : ''}`
            : `${root} does not exist`,
        );
      }),
    );
}
