/**
 * `pgkeep restore [<id|latest>] --to DIR`: a physical backup back into a data directory (fresh,
 * or --delta over an existing copy), optionally started; with a --target-* option, to a point
 * in time (point-in-time recovery from the WAL archive); with --archive-mode off, a copy that
 * never archives.
 */
import type { Command } from 'commander';
import type { Runner } from '../context.js';
import { formatBytes } from '../output.js';
import { progressBar } from '../progress.js';
import { renderAccess, repositoryAccess } from '../restore-access.js';
import { PgkeepError } from '../../errors.js';
import { openRepository } from '../../repo/index.js';
import { passphraseGetter } from '../passphrase-prompt.js';
import {
  describeGap,
  dryRunRestore,
  parseArchiveMode,
  parsePitrFlags,
  parseTablespaceMapping,
  restore,
  type PitrFlags,
  type RestoreOptions,
  type RestoreResult,
} from '../../restore/index.js';
import { renderRestorePlan } from '../restore-plan-render.js';

interface RestoreFlags extends PitrFlags {
  to?: string;
  jobs?: string;
  delta?: boolean;
  tablespaceMap: string[];
  start?: boolean;
  port?: string;
  listen?: string;
  /** commander turns --no-sync into sync: false. */
  sync?: boolean;
  archiveMode: string;
  configTo?: string;
  overwriteConfig?: boolean;
  plan?: boolean;
  dryRun?: boolean;
  /** --prefetch N, or false for --no-prefetch. */
  prefetch?: string | false;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function positiveInt(value: string | undefined, flag: string, max = 1_000_000): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new PgkeepError('USAGE', `${flag} must be a whole number from 1 to ${max}, not "${value}"`);
  return n;
}

/** Segments restore_command keeps ahead: --prefetch N, --no-prefetch (none), else [restore] prefetch. */
function prefetchSetting(flag: string | false | undefined, configured: number | undefined): number | undefined {
  if (flag === undefined) return configured;
  const n = flag === false ? 0 : Number(flag);
  if (!Number.isInteger(n) || n < 0 || n > 1000)
    throw new PgkeepError('USAGE', `--prefetch must be a number of segments from 0 to 1000, not "${flag}"`, {
      hint: '--no-prefetch (or 0) turns prefetching off',
    });
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
    lines.push(
      `delta: ${s.filesUnchanged} files unchanged, ${s.filesWritten} written (${s.chunksWritten} chunk${s.chunksWritten === 1 ? '' : 's'} rewritten, ${s.chunksUnchanged} equal), ${s.filesRemoved} removed`,
    );
    for (const p of r.removed.slice(0, 50)) lines.push(`  removed ${p}`);
    if (r.removed.length > 50) lines.push(`  ... and ${r.removed.length - 50} more (see --json)`);
  }
  const w = r.unarchivedWal;
  for (const f of w?.files ?? []) {
    lines.push(
      `  kept ${f.name} (${f.archive === 'missing' ? 'not in the archive' : 'differs from the archived copy'}): ${f.keptInPgWal ? 'left in pg_wal, ' : ''}copied to ${w!.savedTo}`,
    );
  }
  if (r.resumed) lines.push(`finished an interrupted restore (of snapshot ${r.resumed})`);
  for (const t of r.tablespaces) lines.push(`tablespace ${t.oid}: ${t.to}${t.to !== t.from ? ` (was ${t.from})` : ''}`);
  lines.push(`recovery: ${r.wal?.ownWalOnly ? OWN_WAL_TEXT : RECOVERY_TEXT[r.recovery.mode]}`);
  if (r.recovery.settings.restore_command) lines.push(`  restore_command = ${r.recovery.settings.restore_command}`);
  lines.push(...renderWal(r));
  lines.push(...renderConfiguration(r));
  lines.push(renderArchiving(r));
  if (r.pitr) lines.push(...renderPitr(r));
  if (r.recoveryEnd) lines.push(...renderRecoveryEnd(r));
  if (r.started && r.recoveryEnd?.state === 'shut down') {
    lines.push(
      `the server shut down at the target, as asked; starting it again repeats recovery to the same point (remove recovery.signal and the recovery_target settings from postgresql.auto.conf to continue)`,
    );
  } else if (r.started) {
    lines.push(
      `started on port ${r.started.port} (log: ${r.started.logFile})`,
      ...renderAccess(r.started),
      `  stop:    ${r.started.stopCommand}`,
    );
  } else {
    lines.push(
      `start it with: ${r.startCommand}${/^(pg_ctlcluster|runuser) /.test(r.startCommand) ? '' : " (as the data directory's owner)"}, or restore with --start`,
    );
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

const OWN_WAL_TEXT =
  'archive recovery from the WAL stored with the backup only (this cluster has nothing in the archive), then a new timeline';

/** Which WAL the restored cluster recovers with, and up to where (what the restore can hold: its recovery point). */
export function renderWal(r: Pick<RestoreResult, 'wal' | 'pitr'>): string[] {
  const w = r.wal;
  if (!w) return [];
  const own = w.fromBackup ? `the backup's own (pg_wal/ in the snapshot: ${w.fromBackup.first} .. ${w.fromBackup.last})` : '';
  const archive = w.fromArchive ? `the archive (timeline ${w.fromArchive.timeline}: ${w.fromArchive.first} .. ${w.fromArchive.last})` : '';
  const sources = own && archive ? `${own}, then ${archive}` : own || archive || 'none archived yet';
  const tail = w.ownWalOnly
    ? '; restore_command fetches nothing'
    : !w.fromArchive && w.fromBackup
      ? '; the archive holds nothing after it'
      : '';
  const where = {
    record: `the last record in ${w.upTo.segment}`,
    'segment-end': `the end of ${w.upTo.segment}`,
    'backup-end': "the backup's end",
  }[w.upTo.what];
  const lines = [
    `WAL: ${sources}${tail}`,
    `  up to: LSN ${w.upTo.lsn} (${where})${r.pitr?.target ? ', recovery stops at the target before that' : ''}`,
  ];
  if (w.gap) lines.push(`  gap: ${describeGap(w.gap)}`);
  return lines;
}

/** Archiving as the configuration the restored server will read sets it (restore/archive-mode.ts). */
export function renderArchiving(r: RestoreResult): string {
  const a = r.archiving;
  if (a.option === 'off')
    return "archiving: off (archive_mode = off in postgresql.auto.conf): this copy archives no WAL, whatever the backup's archive_command";
  if (!a.known) {
    return (
      `archiving: unknown: ${a.configFile} does not exist (the backup's configuration lived outside the data directory and was not stored); ` +
      'the server will archive as the configuration it is started with says: check archive_mode there, or restore with --archive-mode off'
    );
  }
  const on = a.archiveMode === 'on' || a.archiveMode === 'always';
  const mode = a.archiveMode
    ? `${a.archiveMode} (set in ${a.archiveModeFrom})`
    : `off (not set in ${a.configFile} nor the files it includes, nor postgresql.auto.conf)`;
  return (
    `archiving: archive_mode = ${mode}` +
    (on
      ? `${a.archiveCommand ? `, archive_command = ${a.archiveCommand}` : ''}; once promoted, this copy archives its new timeline there (for a clone or a test restore, use --archive-mode off)`
      : '')
  );
}

/** The backup's configuration files that lived outside the data directory, where they went and whether the copy uses them. */
export function renderConfiguration(r: Pick<RestoreResult, 'configuration' | 'dataDir'>): string[] {
  const c = r.configuration;
  if (!c) return [];
  return [
    `configuration: the backup's files from outside the data directory, in ${c.dir}` +
      (c.used
        ? ` (${r.dataDir}/postgresql.conf points the copy at them)`
        : ' (for reference only: this Debian cluster is started with its own configuration in /etc/postgresql)'),
    ...c.files.map((f) => `  ${f.role} ${f.from} -> ${f.to}`),
    ...c.missing.map((m) => `  ${m.role} ${m.path}: not in the backup (${m.error})`),
  ];
}

export function renderPitr(r: Pick<RestoreResult, 'pitr'>): string[] {
  const p = r.pitr!;
  const lines = [
    `point in time: ${p.target ? `${p.target.kind} ${p.target.value}${p.target.zone && p.target.zone !== 'UTC' ? ` (read in ${p.target.zone})` : ''}` : 'the latest archived point'}` +
      `, then ${p.action}; timeline ${p.timeline}`,
  ];
  lines.push(`  backup: ${p.reason}`);
  if (p.found) lines.push(`  target found in the archive: ${p.found}`);
  if (p.reach) {
    const latest = p.reach.lastTransaction
      ? `last transaction ${p.reach.lastTransaction.time} (LSN ${p.reach.lastTransaction.lsn})`
      : p.reach.lastRecordLsn
        ? `last record at ${p.reach.lastRecordLsn}`
        : `end of ${p.reach.lastSegment} (${p.reach.endLsn})`;
    lines.push(
      `  reachable: from the backup's end (${p.backupEnd.time}, ${p.backupEnd.lsn}) to the ${latest}; WAL ${p.reach.firstSegment} .. ${p.reach.lastSegment}`,
    );
  }
  return lines;
}

function renderRecoveryEnd(r: RestoreResult): string[] {
  const e = r.recoveryEnd!;
  const lines = [`recovery ended after ${e.seconds.toFixed(1)} s: ${e.state}${e.timeline ? ` (new timeline ${e.timeline})` : ''}`];
  if (e.stoppedAt) lines.push(`  ${e.stoppedAt}`);
  if (e.lastTransactionTime) lines.push(`  last replayed transaction: ${e.lastTransactionTime}`);
  if (e.replayLsn) lines.push(`  replayed up to LSN ${e.replayLsn}`);
  if (e.state === 'paused')
    lines.push(
      '  read-only at the target: check the data, then SELECT pg_wal_replay_resume() to promote (or restore again with another target)',
    );
  return lines;
}

export function register(program: Command, runner: Runner): void {
  program
    .command('restore')
    .description(
      'restore a physical backup into a data directory (fresh, or --delta over an existing copy), to its end, the latest archived point or a point in time, and optionally start it',
    )
    .argument(
      '[id]',
      'snapshot id (or the start of one), or "latest" (the default; also "latest-physical"): the newest physical backup, whatever dumps are newer; when it recovers from the archive, the newest on the history of the timeline followed (with a target: that ended before it)',
    )
    .requiredOption('--to <dir>', 'data directory to restore into (created; must be empty unless --delta)')
    .option('--jobs <n>', 'parallel file writers (default: the number of CPUs, at most 8)')
    .option(
      '--delta',
      'restore over an existing data directory of this cluster (or an interrupted restore): keep what matches (compared chunk by chunk), rewrite what differs, remove what the backup lacks (WAL the archive lacks is kept and copied aside)',
    )
    .option('--tablespace-map <old=new>', 'restore the tablespace at OLD (its recorded location or OID) to NEW (repeatable)', collect, [])
    .option('--dry-run', 'the same as --plan')
    .option(
      '--plan',
      "write nothing: print the backup chosen, the WAL range and timeline, the target's reach, and every file the restore (--delta) would write or remove",
    )
    .option('--start', 'start the restored cluster and wait until it accepts connections')
    .option('--port <n>', 'port for --start (default: a free one)')
    .option(
      '--listen <addresses>',
      'with --start: also listen on these TCP addresses (listen_addresses), with password authentication (scram-sha-256) for host connections; default: no TCP, only a unix socket in a private (0700) directory',
    )
    .option('--no-sync', 'do not fsync restored files (faster; for throwaway copies)')
    .option(
      '--prefetch <n>',
      'restore_command keeps N segments fetched ahead of recovery, in parallel, in <data dir>/pg_wal/pgkeep-spool (default [restore] prefetch, else 8)',
    )
    .option('--no-prefetch', 'restore_command fetches one segment at a time, when recovery asks for it')
    .option(
      '--target-time <ts>',
      'recover to this moment: ISO 8601 or "YYYY-MM-DD HH:MM:SS[.ffffff][+TZ]" (no zone: this machine\'s local time)',
    )
    .option('--target-xid <xid>', 'recover to the end (commit or abort) of this transaction')
    .option('--target-lsn <lsn>', 'recover to this WAL position (X/X)')
    .option('--target-name <name>', 'recover to this restore point (pg_create_restore_point)')
    .option('--target <immediate>', '"immediate": stop as soon as the backup is consistent (its end)')
    .option('--target-action <action>', 'at the target: promote (default), pause (read-only, to inspect) or shutdown')
    .option('--target-timeline <tli>', "timeline to follow: latest (default), current (the backup's) or a number")
    .option('--exclusive', 'stop just before the target instead of just after it (recovery_target_inclusive = off)')
    .option(
      '--config-to <dir>',
      "where the backup's configuration files that lived outside the data directory (Debian: /etc/postgresql/...) are written (default: DIR.config beside the data directory)",
    )
    .option('--overwrite-config', 'replace files in the --config-to directory that exist with other content (default: refuse)')
    .option(
      '--archive-mode <mode>',
      "preserve: keep the backup's archive settings (default); off: archive_mode = off, so a clone, test restore or drill never archives into the production repository",
      'preserve',
    )
    .addHelpText(
      'after',
      `
Files get their recorded modes and mtimes; run as root, they also get their recorded owner (by
name when this host knows it), so the cluster starts as the postgres user. A stream backup's
backup_manifest is restored too: "pg_verifybackup DIR" checks the files.
Without a target, every restore goes to the latest point: the end of the WAL the repository
holds (recovery.signal and a restore_command running "pgkeep wal get"), cold and standalone
backups included when their cluster archived WAL after them (their own pg_wal/ fills in).
A standalone backup with nothing archived after it recovers from its own pg_wal/; a cold one
simply starts. Recovery always ends with a promotion to a new timeline. The output says which
WAL is used and up to where. Until the restore finishes, DIR holds .pgkeep-restore-in-progress
and no global/pg_control, so it cannot be started.
--delta goes only over a data directory of the same cluster (or an interrupted restore), and
keeps WAL the archive lacks (in pg_wal for recovery, and copied to DIR.unarchived-wal-<time>).
--start listens on no TCP address unless --listen: only a unix socket in a 0700 directory.

Recovery replays along the latest timeline unless --target-timeline says otherwise, so pgkeep
chooses the backup the way PostgreSQL needs it: without an id (or with "latest"), the newest
backup on that timeline's history; a given id that is not on it (taken on the old timeline
after a promotion) is refused before anything is written. A gap in the archive after the
backup (a missing segment, newer ones archived) refuses the latest point, naming it: put the
segments back, or accept the loss with --target-lsn at the reachable point it names. With
--start, a recovery that promotes before the planned end fails (exit 7).

A backup whose postgresql.conf, pg_hba.conf or pg_ident.conf lived outside the data directory
(Debian: /etc/postgresql/<major>/<name>) carries them: they are written to DIR.config (or
--config-to), never over existing files, and DIR/postgresql.conf points the copy at them
(data_directory, hba_file, ident_file). Restoring into the data directory of a cluster of this
host's /etc/postgresql leaves its configuration alone; start it with pg_ctlcluster.

The restored cluster keeps the backup's configuration, archive_command included: once promoted
it archives a new timeline wherever the source did. --archive-mode off writes archive_mode = off
into postgresql.auto.conf (for clones, test restores and drills); preserve (the default) keeps
it, as a restore that replaces the source wants.

Point-in-time recovery: give one target. Without an id, pgkeep takes the newest backup that
ended before it (for a transaction or restore point: before its record in the archived WAL).
Before anything is written, the target is checked against the archive, whose WAL pgkeep reads:
a target before the oldest backup's end, past the last archived transaction (or LSN), a restore
point or transaction not in the archive, or a timeline without a history file is refused with
the reachable range. A time without zone is read in this machine's local time zone and written
to recovery_target_time in UTC, so the restored server's timezone setting does not matter.
With --start, pgkeep waits until the target is reached (promoted, paused or shut down).

Examples:
  pgkeep restore latest --to /var/lib/postgresql/15/restored
  pgkeep restore latest --to /srv/drill --archive-mode off --start     a restore drill that archives nothing
  pgkeep restore 20260101T120000Z-1a2b --to /srv/pg --jobs 4 --start --port 5499
  pgkeep restore latest --to /srv/copy --start --listen 127.0.0.1     also TCP, with password logins
  pgkeep restore latest --to /srv/replica --delta          rebuild a damaged copy quickly
  pgkeep restore latest --to /srv/replica --delta --plan   what that would write and remove, writing nothing
  pgkeep restore latest --to /srv/pg --tablespace-map /srv/ts1=/srv/restored-ts1
  pgkeep restore --to /srv/pitr --target-time '2026-03-01 14:04:59+01' --start
  pgkeep restore --to /srv/pitr --target-name before_migration --target-action pause --start
  pgkeep restore --to /srv/pitr --target-xid 48213 --exclusive     everything but that transaction
  pgkeep restore latest --to /srv/pitr --target-timeline 2          the latest point of timeline 2`,
    )
    .action(
      runner.action<RestoreFlags>(async (ctx, opts, args) => {
        const jobs = positiveInt(opts.jobs, '--jobs', 64);
        const port = positiveInt(opts.port, '--port', 65535);
        if (port !== undefined && !opts.start) throw new PgkeepError('USAGE', '--port applies only with --start');
        if (opts.listen !== undefined && !opts.start) throw new PgkeepError('USAGE', '--listen applies only with --start');
        if (opts.dryRun) opts.plan = true;
        if (opts.plan && opts.start) throw new PgkeepError('USAGE', '--plan writes nothing and starts nothing: drop --start (or --plan)');
        const tablespaceMap = opts.tablespaceMap.map(parseTablespaceMapping);
        const pitr = parsePitrFlags(opts);
        const archiveMode = parseArchiveMode(opts.archiveMode);
        const repo = await openRepository(ctx.config.repo, { getPassphrase: passphraseGetter(ctx.config.passphrase), jobs });
        const bar = progressBar(ctx, { label: 'restore' });
        const options: RestoreOptions = {
          repo,
          cluster: ctx.config.clusterName,
          id: args[0],
          pitr,
          archiveMode,
          to: opts.to!,
          configTo: opts.configTo,
          overwriteConfig: opts.overwriteConfig,
          jobs,
          delta: opts.delta,
          tablespaceMap,
          access: { ...repositoryAccess(ctx), prefetch: prefetchSetting(opts.prefetch, ctx.config.restore.prefetch) },
          startPrefetch: true,
          start: opts.start,
          pgBin: ctx.config.cluster.pgBin,
          port,
          listen: opts.listen,
          detach: true,
          sync: opts.sync !== false,
          signal: ctx.signal,
          onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal, p.step === 'write-files' ? undefined : p.step),
        };
        if (opts.plan) {
          try {
            const planned = await dryRunRestore(options);
            ctx.out.result(planned, renderRestorePlan);
          } finally {
            bar.done();
            await repo.closeAll();
          }
          return;
        }
        let result: RestoreResult;
        try {
          result = await restore(options);
        } finally {
          bar.done();
          await repo.closeAll();
        }
        ctx.out.result(result, renderRestore);
      }),
    );
}
