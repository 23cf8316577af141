/**
 * `pgkeep restore <id|latest> --to DIR`: a physical backup back into a data directory (fresh,
 * or --delta over an existing copy), optionally started.
 */
import type { Command } from 'commander';
import type { Runner } from '../context.js';
import { formatBytes } from '../output.js';
import { progressBar } from '../progress.js';
import { PgkeepError } from '../../errors.js';
import { openRepository } from '../../repo/index.js';
import { passphraseGetter } from '../../repo/passphrase.js';
import { parseTablespaceMapping, restore, type RestoreResult } from '../../restore/index.js';

interface RestoreFlags {
  to?: string;
  jobs?: string;
  delta?: boolean;
  tablespaceMap: string[];
  start?: boolean;
  port?: string;
  /** commander turns --no-sync into sync: false. */
  sync?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function positiveInt(value: string | undefined, flag: string, max = 1_000_000): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new PgkeepError('USAGE', `${flag} must be a whole number from 1 to ${max}, not "${value}"`);
  return n;
}

const RECOVERY_TEXT: Record<RestoreResult['recovery']['mode'], string> = {
  none: 'none needed (cold backup: the cluster was shut down cleanly)',
  'crash-recovery': 'from the WAL stored with the backup (standalone), up to consistency',
  'archive-recovery': 'archive recovery: recovery.signal, WAL fetched from the repository by restore_command',
};

export function renderRestore(r: RestoreResult): string {
  const s = r.stats;
  const lines = [
    `restored snapshot ${r.snapshotId} (${r.method}${r.standalone && r.method !== 'cold' ? ', standalone' : ''}, PostgreSQL ${r.serverVersion}) of cluster ${r.cluster} into ${r.dataDir}`,
    `${s.files} files, ${formatBytes(s.bytes)} in ${r.seconds.toFixed(1)} s (${formatBytes(r.throughput)}/s); ${formatBytes(s.bytesWritten)} written`,
  ];
  if (r.delta) {
    lines.push(`delta: ${s.filesUnchanged} files unchanged, ${s.filesWritten} written (${s.chunksWritten} chunk${s.chunksWritten === 1 ? '' : 's'} rewritten, ${s.chunksUnchanged} equal), ${s.filesRemoved} removed`);
    for (const p of r.removed.slice(0, 50)) lines.push(`  removed ${p}`);
    if (r.removed.length > 50) lines.push(`  ... and ${r.removed.length - 50} more (see --json)`);
  }
  if (r.resumed) lines.push(`finished an interrupted restore (of snapshot ${r.resumed})`);
  for (const t of r.tablespaces) lines.push(`tablespace ${t.oid}: ${t.to}${t.to !== t.from ? ` (was ${t.from})` : ''}`);
  lines.push(`recovery: ${RECOVERY_TEXT[r.recovery.mode]}`);
  if (r.recovery.settings.restore_command) lines.push(`  restore_command = ${r.recovery.settings.restore_command}`);
  if (r.started) {
    lines.push(
      `started on port ${r.started.port} (log: ${r.started.logFile})`,
      `  connect: psql "${r.started.connection} user=<a superuser of the source>"`,
      `  stop:    ${r.started.stopCommand}`,
    );
  } else {
    lines.push(`start it with: pg_ctl start -D ${r.dataDir} (as the data directory's owner), or restore with --start`);
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

export function register(program: Command, runner: Runner): void {
  program
    .command('restore')
    .description('restore a physical backup into a data directory (fresh, or --delta over an existing copy), and optionally start it')
    .argument('<id>', 'snapshot id, or "latest"')
    .requiredOption('--to <dir>', 'data directory to restore into (created; must be empty unless --delta)')
    .option('--jobs <n>', 'parallel file writers (default: the number of CPUs, at most 8)')
    .option('--delta', 'restore over an existing copy: keep what matches (compared chunk by chunk), rewrite what differs, remove what the backup lacks')
    .option('--tablespace-map <old=new>', 'restore the tablespace at OLD (its recorded location or OID) to NEW (repeatable)', collect, [])
    .option('--start', 'start the restored cluster and wait until it accepts connections')
    .option('--port <n>', 'TCP port for --start (default: a free one)')
    .option('--no-sync', 'do not fsync restored files (faster; for throwaway copies)')
    .addHelpText('after', `
Files get their recorded modes and mtimes; run as root, they also get their recorded owner (by
name when this host knows it), so the cluster starts as the postgres user. A stream backup's
backup_manifest is restored too: "pg_verifybackup DIR" checks the files.
A standalone backup recovers from its own WAL; other hot backups recover from the WAL archive
(recovery.signal and a restore_command running "pgkeep wal get"). Until the restore finishes,
DIR holds .pgkeep-restore-in-progress and no global/pg_control, so it cannot be started.

Examples:
  pgkeep restore latest --to /var/lib/postgresql/15/restored
  pgkeep restore 20260101T120000Z-1a2b --to /srv/pg --jobs 4 --start --port 5499
  pgkeep restore latest --to /srv/replica --delta          rebuild a damaged copy quickly
  pgkeep restore latest --to /srv/pg --tablespace-map /srv/ts1=/srv/restored-ts1`)
    .action(runner.action<RestoreFlags>(async (ctx, opts, args) => {
      const jobs = positiveInt(opts.jobs, '--jobs', 64);
      const port = positiveInt(opts.port, '--port', 65535);
      if (port !== undefined && !opts.start) throw new PgkeepError('USAGE', '--port applies only with --start');
      const tablespaceMap = opts.tablespaceMap.map(parseTablespaceMapping);
      const repo = await openRepository(ctx.config.repo, { getPassphrase: passphraseGetter(ctx.config.passphrase), jobs });
      const bar = progressBar(ctx, { label: 'restore' });
      let result: RestoreResult;
      try {
        result = await restore({
          repo,
          cluster: ctx.config.clusterName,
          id: args[0]!,
          to: opts.to!,
          jobs,
          delta: opts.delta,
          tablespaceMap,
          access: {
            repo: ctx.config.repo.path!,
            cluster: ctx.config.clusterName,
            passphraseFile: ctx.config.passphrase.file,
            passphraseFromEnv: ctx.config.passphrase.fromEnv,
            configFile: ctx.config.file,
          },
          start: opts.start,
          port,
          detach: true,
          sync: opts.sync !== false,
          signal: ctx.signal,
          onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal, p.step === 'write-files' ? undefined : p.step),
        });
      } finally {
        bar.done();
        await repo.closeAll();
      }
      ctx.out.result(result, renderRestore);
    }));
}
