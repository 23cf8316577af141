/**
 * `pgkeep wal`: continuous archiving. `push` is archive_command, `get` is restore_command,
 * `check` tells whether the archive is continuous and how far each backup recovers.
 * Other files add subcommands to the same group through `walGroup(program)` (e.g. `wal stream`).
 *
 * push and get run once per WAL segment, so the use cases are imported lazily, inside the
 * handlers: a push loads only the repository engine and the codec it needs.
 */
import type { Command } from 'commander';
import { buildContext, type CommandContext, type Runner } from '../context.js';
import { failForDamagedManifests } from '../damaged-manifests.js';
import { createOutput, table } from '../output.js';
import { EXIT, PgkeepError, exitCodeOf, toPgkeepError } from '../../errors.js';
import type { WalCheckReport } from '../../wal/check.js';

/** The `pgkeep wal` command group, created on first use. */
export function walGroup(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === 'wal');
  if (existing) return existing;
  return program
    .command('wal')
    .description('continuous WAL archiving: archive_command, restore_command, archive checks')
    .addHelpText(
      'after',
      `
In postgresql.conf (pgkeep reads the repository and cluster from its config file, as always):
  archive_mode = on
  archive_command = 'pgkeep wal push %p'
  restore_command = 'pgkeep wal get %f %p'      ("pgkeep restore" writes this one for you)

Examples:
  pgkeep wal push pg_wal/000000010000000000000003
  pgkeep wal get 000000010000000000000003 /tmp/seg
  pgkeep wal check`,
    );
}

type Repo = Awaited<ReturnType<typeof import('../../repo/open.js').openRepository>>;

export async function openRepo(ctx: CommandContext): Promise<Repo> {
  const [{ openRepository }, { passphraseGetter }] = await Promise.all([import('../../repo/open.js'), import('../passphrase-prompt.js')]);
  return openRepository(ctx.config.repo, { getPassphrase: passphraseGetter(ctx.config.passphrase), jobs: 1 });
}

export function register(program: Command, runner: Runner): void {
  const wal = walGroup(program);
  registerPush(wal, runner);
  registerGet(wal, runner);
  registerCheck(wal, runner);
}

function registerPush(wal: Command, runner: Runner): void {
  wal
    .command('push')
    .description('archive one WAL file (segment, .partial, .history or .backup): use as archive_command')
    .argument('<path>', 'the file, relative to the data directory (%p) or absolute')
    .addHelpText(
      'after',
      `
Exits 0 only once the file is stored durably. A file archived before with the same content is
success ("already archived"); with different content it fails (exit 7) and keeps the first copy.
WAL of another PostgreSQL system than the one the cluster name belongs to is refused (exit 11).
No repository lock is taken (gc never deletes WAL).

Examples:
  archive_command = 'pgkeep wal push %p'
  archive_command = 'pgkeep --config /etc/pgkeep/pgkeep.toml --cluster prod wal push %p'`,
    )
    .action(
      runner.action(async (ctx, _opts, args) => {
        if (ctx.config.archive.async && ctx.config.repo.path) {
          return (await import('./wal-async-push.js')).asyncWalPush(ctx, args[0]!);
        }
        const { pushWalFile } = await import('../../wal/push.js');
        const repo = await openRepo(ctx);
        try {
          const c = ctx.config;
          const r = await pushWalFile(repo, {
            cluster: c.clusterName,
            path: args[0]!,
            pgdata: c.cluster.pgdata,
            codec: c.archive.compression,
          });
          if (r.status === 'already-archived') ctx.log.info(`${r.file} was already archived with identical content`);
          else ctx.log.debug(`archived ${r.file} (${r.bytes} bytes) as ${r.key}`);
          if (ctx.out.json) ctx.out.result(r, () => '');
        } finally {
          await repo.closeAll();
        }
      }),
    );
}

interface GetOpts {
  prefetch?: string;
  spoolDir?: string;
  systemId?: string;
}

function registerGet(wal: Command, runner: Runner): void {
  const handler = runner.action<GetOpts>(async (ctx, opts, args) => {
    try {
      return await walGet(ctx, opts, args[0]!, args[1]!);
    } catch (e) {
      ctx.out.error(ctx.signal.aborted ? toPgkeepError(ctx.signal.reason) : toPgkeepError(e));
      return EXIT.WAL_GET_FAILED;
    }
  });
  wal
    .command('get')
    .description('restore one WAL file from the repository: use as restore_command')
    .argument('<name>', 'the file recovery asks for (%f)')
    .argument('<destination>', 'where to write it (%p)')
    .option('--prefetch <n>', 'keep the next N segments fetched ahead in a spool directory, by a background process')
    .option('--spool-dir <dir>', 'spool directory for --prefetch (default <data dir>/pg_wal/pgkeep-spool)')
    .option('--system-id <id>', "read the WAL of this system identifier (default: the data directory's)")
    .addHelpText(
      'after',
      `
Exit codes follow what PostgreSQL expects from restore_command: 0 = restored, 1 = not in the
archive (normal: recovery asks for files that do not exist), 126 = a real failure (repository
unreadable, wrong passphrase, damaged object, unusable configuration), so that recovery stops
instead of ending early at the wrong point.

With --prefetch N (what "pgkeep restore" writes, N = 8 by default), a background pgkeep (started
by a get when none runs) keeps the N segments after the last one served in the spool, a few
fetched in parallel; later calls take them from there. Spooled files are keyed by repository,
cluster and system, checked (checksum, header against the name) before they are handed over,
and removed once used. The spool is bounded (N segments, 256 MiB, free space kept for pg_wal);
a full disk pauses prefetching, never recovery.

Examples:
  restore_command = 'pgkeep wal get %f %p'
  restore_command = 'pgkeep wal get --prefetch 8 %f %p'`,
    )
    .action(async (...a: any[]) => {
      // Configuration errors must not look like "not in the archive" (exit 1..125) to recovery.
      try {
        buildContext(a[a.length - 1] as Command, new AbortController().signal);
      } catch (e) {
        createOutput(process.argv.includes('--json')).error(toPgkeepError(e));
        process.exit(EXIT.WAL_GET_FAILED);
      }
      return handler(...a);
    });
}

async function walGet(ctx: CommandContext, opts: GetOpts, name: string, destination: string): Promise<number> {
  const prefetch = opts.prefetch === undefined ? 0 : Number(opts.prefetch);
  if (!Number.isInteger(prefetch) || prefetch < 0 || prefetch > 1000) {
    throw new PgkeepError('USAGE', `--prefetch must be a number of segments from 0 to 1000, not "${opts.prefetch}"`);
  }
  const [{ restoreWalFile }, { prefetchArgv }] = await Promise.all([import('../../wal/restore-command.js'), import('./wal-spool.js')]);
  const repo = await openRepo(ctx);
  try {
    const {
      result: r,
      prefetcher,
      prefetchSkipped,
    } = await restoreWalFile(repo, {
      cluster: ctx.config.clusterName,
      name,
      destination,
      pgdata: ctx.config.cluster.pgdata,
      systemIdentifier: opts.systemId,
      spoolRoot: opts.spoolDir,
      prefetch,
      prefetchArgv: (p) => prefetchArgv(ctx, p),
    });
    if (ctx.out.json) ctx.out.result(r, () => '');
    if (!r.found) {
      ctx.log.debug(`${name} is not in the archive`);
      return EXIT.WAL_GET_NOT_FOUND;
    }
    ctx.log.debug(`restored ${name} from the ${r.source}`);
    if (r.spoolRejected) ctx.log.warn(`${r.spoolRejected}: deleted it and restored ${name} from the repository`);
    if (prefetchSkipped) ctx.log.warn(`cannot use the prefetch spool (${prefetchSkipped}): segments are fetched one at a time`);
    if (prefetcher) ctx.log.debug(`started a prefetcher keeping ${prefetcher.count} segment(s) ahead in ${prefetcher.spoolDir}`);
    return EXIT.OK;
  } finally {
    await repo.closeAll();
  }
}

function registerCheck(wal: Command, runner: Runner): void {
  wal
    .command('check')
    .description('is the archive continuous from each backup to the newest segment? the recoverable window of each backup')
    .option('--read-data', 'also read every archived file back and check it (checksum, decompression, WAL page headers)')
    .addHelpText(
      'after',
      `
Per timeline: first and last archived segment and any gaps. Per physical backup: the timeline
recovery follows (through .history files), and the window it can be recovered to: from its end
to the end of the newest segment reachable without a gap. Exits 7 (DATA_INTEGRITY) when a backup
cannot reach its window (a gap, or WAL it needs to become consistent is missing) or an archived
file is damaged.

What is read: without --read-data, the listing of the archive and every .history file (checked
line by line as PostgreSQL writes them); segments are not read. With --read-data, every
segment, .partial, .backup and .history file is read back: its SHA-256 (or, encrypted, its
AES-GCM tag), decompression, and its content (each WAL page header: magic, page address,
timeline; the text format of history files). A damaged segment counts as missing.

Examples:
  pgkeep wal check
  pgkeep wal check --read-data
  pgkeep --json wal check`,
    )
    .action(
      runner.action<{ readData?: boolean }>(async (ctx, opts) => {
        const { checkArchive } = await import('../../wal/check.js');
        const repo = await openRepo(ctx);
        let report: WalCheckReport;
        try {
          report = await checkArchive(repo, ctx.config.clusterName, {
            readData: opts.readData,
            concurrency: repo.jobs,
            signal: ctx.signal,
            onProgress: (done, total) => {
              if (ctx.interactive) process.stderr.write(`\rreading WAL files ${done}/${total}${done === total ? '\n' : ''}`);
            },
          });
        } finally {
          await repo.closeAll();
        }
        ctx.out.result(report, renderCheck);
        if (!report.ok) {
          const bad = report.backups.filter((b) => b.status === 'gap' || b.status === 'unrecoverable');
          if (ctx.out.json) return exitCodeOf('DATA_INTEGRITY');
          if (bad.length === 0 && report.damaged.length === 0) {
            return failForDamagedManifests(
              ctx,
              report.damagedManifests,
              'the WAL window of those backups cannot be checked (the other backups were)',
            );
          }
          if (bad.length === 0) {
            throw new PgkeepError(
              'DATA_INTEGRITY',
              `${report.damaged.length} archived WAL file(s) are damaged: ${report.damaged.map((d) => d.file).join(', ')}`,
              {
                hint: 'push the files again from the server\'s pg_wal if they are still there ("pgkeep wal push"); otherwise take a new backup',
              },
            );
          }
          throw new PgkeepError(
            'DATA_INTEGRITY',
            `${bad.length} backup(s) cannot be recovered to the newest archived WAL: ${bad.map((b) => b.id).join(', ')}`,
            {
              hint:
                "the missing segments are listed above; if they are still in the server's pg_wal, archiving will catch up " +
                '(check the server log for archive_command errors); otherwise take a new backup',
            },
          );
        }
      }),
    );
}

function renderCheck(r: WalCheckReport): string {
  const out: string[] = [];
  if (!r.timelines.length) out.push(`no WAL archived for cluster "${r.cluster}"`);
  else {
    out.push(`WAL archive of cluster "${r.cluster}":`);
    out.push(
      table(
        ['system', 'timeline', 'first', 'last', 'segments', 'gaps', 'history'],
        r.timelines.map((t) => [
          t.systemIdentifier,
          t.timeline,
          t.first,
          t.last,
          t.segments,
          t.gaps.length ? t.gaps.map((g) => (g.from === g.to ? g.from : `${g.from}..${g.to}`)).join(', ') : 'none',
          t.timeline === 1 ? '-' : t.historyFile ? 'yes' : 'MISSING',
        ]),
      ),
    );
  }
  if (r.backups.length) {
    out.push('', 'physical backups:');
    out.push(
      table(
        ['backup', 'timeline', 'status', 'from', 'to'],
        r.backups.map((b) => [
          b.id,
          b.targetTimeline === b.timeline ? b.timeline : `${b.timeline}->${b.targetTimeline}`,
          b.status,
          b.from,
          b.to ?? '',
        ]),
      ),
    );
    for (const b of r.backups) if (b.status !== 'ok') out.push(`  ${b.id}: ${b.message}`);
  } else out.push('', 'no physical backups');
  if (r.readData) out.push('', `${r.filesRead} archived file(s) read back and checked, ${r.damaged.length} damaged`);
  for (const d of r.damaged) out.push(`damaged: ${d.file} (${d.key}): ${d.problem}`);
  for (const p of r.problems) out.push(`problem: ${p}`);
  for (const d of r.damagedManifests) out.push(`DAMAGED ${d.id}: ${d.message} (its WAL window is not checked)`);
  return out.join('\n');
}
